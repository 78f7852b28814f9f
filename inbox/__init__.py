"""An open-source support desk and omnichannel inbox."""
