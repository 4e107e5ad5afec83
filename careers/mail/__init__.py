"""Mail: a durable queue of outgoing mail, operator alerts, and account-free job alerts.

Nothing here is sent from a request: requests queue mail in the store (`store.py`), and the
mail worker (`worker.py`) sends it with retries, so an outage of the mail server loses
nothing. Queued mail carries no candidate's address: a job-alert mail names its
subscription, whose address is sealed with a key of its own (docs/mail.md).
"""
