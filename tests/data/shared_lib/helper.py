def describe(argv):
    return " ".join(argv)
