"""The report's charts: SVG drawn on the server by pygal, readable without JavaScript, every
bar a link to the tickets it counts.

pygal is imported when the first chart is drawn, not when the web app starts: a desk starting
up has mail to file first.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from markupsafe import Markup

from inbox.models.sla import SLA_TARGETS
from inbox.queries.reports.chat import ChatReport
from inbox.queries.reports.sla import BACKLOG_BUCKETS, ReportRange, SlaReport
from inbox.queries.sla import TARGET_LABELS
from inbox.web.reports.parameters import range_params, report_link


@cache
def _pygal() -> Any:
    import pygal  # type: ignore[import-untyped]

    return pygal


@cache
def _style() -> Any:
    from pygal.style import Style  # type: ignore[import-untyped]

    # The page's design tokens, so a chart follows the theme (the SVG is inline in the page).
    return Style(
        background="var(--surface)",
        plot_background="var(--surface)",
        foreground="var(--fg)",
        foreground_strong="var(--fg)",
        foreground_subtle="var(--muted)",
        guide_stroke_color="var(--line)",
        major_guide_stroke_color="var(--muted)",
        colors=("#2f8a4c", "#b3261e", "#8a94a6", "#2f5bd3", "#c77c02", "#6b3fa0"),
        font_family="system-ui, sans-serif",
    )


# Colour rules in the stylesheet: one per series of a chart (channels in the volume chart).
STYLESHEET_SERIES = 40


def drill_link(rng: ReportRange, **params: object) -> str:
    return report_link("/reports/tickets", **range_params(rng), **params)


def _chart(kind: Any, title: str, **options: Any) -> Any:
    return kind(
        title=title,
        js=[],  # readable without JavaScript: plain SVG, links as <a> elements
        disable_xml_declaration=True,
        style=_style(),
        width=720,
        height=300,
        legend_at_bottom=True,
        print_values=False,
        **options,
    )


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _svg(chart: Any) -> Markup:
    """The chart as inline SVG, without the configuration script pygal always adds and
    without its inline styles, which the page's Content-Security-Policy refuses: they come
    from ``chart_stylesheet`` instead."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        parent.attrib.pop("style", None)
        for child in list(parent):
            if _local(child.tag) in ("script", "style"):
                parent.remove(child)
    from pygal.etree import etree  # type: ignore[import-untyped]

    # pygal escapes every text it draws; the tree is serialised as XML.
    return Markup(etree.tostring(root, encoding="unicode"))  # noqa: S704


@cache
def chart_stylesheet() -> str:
    """The CSS pygal writes into each chart, once for every chart of the page (``.pygal-chart``
    rather than one chart's id), with colours for ``STYLESHEET_SERIES`` series."""
    chart = _chart(_pygal().Bar, "")
    for n in range(STYLESHEET_SERIES):
        chart.add(str(n), [1])
    root = chart.render_tree()
    css = "\n".join(el.text or "" for el in root.iter() if _local(el.tag) == "style")
    return css.replace("#" + str(root.get("id")), ".pygal-chart")


def _bar(value: int, href: str, label: str) -> dict[str, Any]:
    return {"value": value, "label": label, "xlink": {"href": href, "target": "_top"}}


def compliance_chart(report: SlaReport) -> Markup:
    chart = _chart(_pygal().StackedBar, "SLA clocks per target")
    totals = {t.target: t for t in report.totals}
    targets = [t for t in SLA_TARGETS if t in totals]
    chart.x_labels = [TARGET_LABELS[t] for t in targets]
    for outcome in ("met", "breached", "open"):
        chart.add(
            outcome.capitalize(),
            [
                _bar(
                    getattr(totals[t], outcome),
                    drill_link(report.range, target=t, outcome=outcome),
                    f"{TARGET_LABELS[t]}: {outcome}",
                )
                for t in targets
            ],
        )
    return _svg(chart)


def backlog_chart(report: SlaReport) -> Markup:
    chart = _chart(_pygal().Bar, "Unresolved tickets by age", show_legend=False)
    chart.x_labels = [label for label, _, _ in BACKLOG_BUCKETS]
    chart.add(
        "Tickets",
        [_bar(b.count, drill_link(report.range, backlog=b.index), b.label) for b in report.backlog],
    )
    return _svg(chart)


def volume_chart(report: SlaReport) -> Markup:
    volume = report.volume
    chart = _chart(_pygal().StackedBar, "New tickets per channel per day", x_label_rotation=45)
    chart.x_labels = [day.strftime("%d %b") for day in volume.days]
    chart.show_minor_x_labels = False
    chart.x_labels_major_every = max(1, len(volume.days) // 15)
    for cid, name in volume.channels:
        chart.add(
            name,
            [
                _bar(
                    n,
                    drill_link(report.range, day=day.isoformat(), channel=cid or "none"),
                    f"{name}, {day.isoformat()}",
                )
                for day, n in zip(volume.days, volume.series(cid), strict=True)
            ],
        )
    return _svg(chart)


def chat_load_chart(report: ChatReport) -> Markup:
    """Chats open at once per hour of the day: on average, and at the most; each bar leads
    to the chats open in that hour."""
    chart = _chart(_pygal().Bar, f"Chats open at once, by hour of the day ({report.range.tz.key})")
    chart.x_labels = [f"{h.hour:02d}" for h in report.hours]
    for title, measure in (("Average at once", "average"), ("Most at once", "most")):
        chart.add(
            title,
            [
                {
                    "value": getattr(h, measure),
                    "label": f"{h.label}: {h.chats} chat{'s' if h.chats != 1 else ''}",
                    "xlink": {
                        "href": drill_link(report.range, chat="load", hour=h.hour),
                        "target": "_top",
                    },
                }
                for h in report.hours
            ],
        )
    return _svg(chart)
