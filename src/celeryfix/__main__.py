from celeryfix.cli import main

main()
