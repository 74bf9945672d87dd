class P {}
