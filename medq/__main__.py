from medq.cli import main

main()
