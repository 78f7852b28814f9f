"""Live chat's writes: chat channels, visitors, conversations, the filing of visitors'
messages and agents' replies to them."""
