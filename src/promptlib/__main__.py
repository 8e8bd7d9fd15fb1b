from promptlib.cli import main

main()
