"""What ``/schema`` says about the API beyond what Litestar infers: the error body on every
refusal, and that request bodies take no fields but their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec

from inbox.web.api.shapes import ErrorBody

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition

ERROR_RESPONSES = {
    status: ResponseSpec(data_container=ErrorBody, description=description)
    for status, description in {
        400: "Bad input: a malformed body or query parameter",
        401: "No valid bearer token",
        403: "Not allowed for this agent",
        404: "No such thing, or one the caller may not see",
        409: "Conflicts with the current state",
        413: "Request body too large",
        422: "Invalid: an unknown field, a wrong type, a missing field or a refused value",
        429: "Throttled",
    }.items()
}


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's schema of a msgspec struct, with ``additionalProperties: false`` for a
    struct that refuses unknown fields, as the API's request bodies do."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
