"""Running untrusted learner code: the zygote, the host inside each box, the client.

`protocol`, `host` and `zygote` use the standard library only: they run in the
sandbox's own minimal interpreter. `client` is the trusted side.
"""
