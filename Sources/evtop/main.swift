print("evtop")
