"""The only code that runs git or imports GitPython: hardened `run` (`run`), clone/fetch/push under
a silence watchdog (`remote`), history reads and rewrites (`history`), and the per-collection
write lock with its recovery (`lock`, above `history`)."""
