"""Name knowledge the matcher needs, kept as data: diminutives, legal forms, particles, generic words.

Everything here is a pattern of the language (Spanish/English naming conventions), never a name of
a listed person or company: the matcher is judged on held-out entries and must generalise.
"""
