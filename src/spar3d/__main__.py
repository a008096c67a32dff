from spar3d.cli.main import main

main()
