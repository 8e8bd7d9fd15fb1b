"""The adoption report: history read from the collections (`history`), the periods
(`periods`), and the document the terminal and HTML views draw (`document`). The views
themselves live in `cli`."""
