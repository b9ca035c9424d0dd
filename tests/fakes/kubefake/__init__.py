"""A faithful stand-in for the kubectl client and a tiny Kubernetes API, for libdevx's tests.

State lives in a directory ($FAKE_KUBE_STATE), one JSON file per object:
  <ns>/<kind>/<name>.json           namespaced objects (kind = lower-case singular, e.g. service)
  _cluster/<kind>/<name>.json       cluster-scoped objects
  _config.json                      switches: unreachable, forbidden, missing_images, pod_security,
                                    contexts, port_forward {fail_first, exit_after, exit_code,
                                    drop_connections}
  _forward/<ns>/<service>.json      {"<service port>": "host:port"}: where port-forward svc/… relays
                                    when no agent pod backs the Service (a test's fixture server)
  _agents/<ns>/<pod>.json           a started agent: pid, ports {"<pod port>": <local port>}, log
  _api/{pid,port,log}               the fake API server (kube_api.py), started on demand
  _tokens.json                      ServiceAccount tokens handed to agents
  calls.log                         one JSON line per invocation: {"argv": [...], "kubeconfig": ...}
  .lock                             flock(2) serialising every reader and writer
"""
