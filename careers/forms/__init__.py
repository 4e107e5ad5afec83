"""What every public form of the site shares, the application form and the job-alert forms
alike: signed form tokens and the honeypot (tokens.py), the origin check (origin.py), the
cleaning of what people type (text.py) and email address syntax (email.py).

Plain Python below the domain: applications/, mail/ and web/ import it, it imports nothing
of theirs (tests/test_layout.py).
"""
