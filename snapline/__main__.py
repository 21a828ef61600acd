from snapline.cli import main

main()
