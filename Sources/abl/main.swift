import pipeline

ABL.main()
