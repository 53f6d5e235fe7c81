from mockgraph.cli import main

raise SystemExit(main())
