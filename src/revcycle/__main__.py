from revcycle.cli import main

main()
