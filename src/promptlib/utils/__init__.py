"""Small helpers every layer may use: atomic writes, no-follow reads, the control-character
rules and YAML dumping. The bottom layer: it imports nothing of promptlib but `errors`."""
