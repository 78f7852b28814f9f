"""Pure mail helpers: parsing, header decoding, HTML sanitizing and quote stripping; no I/O."""
