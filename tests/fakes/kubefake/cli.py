"""kubectl's argv, outputs, exit codes and error texts for the commands devx uses."""
import base64
import copy
import json
import os
import sys

import yaml

from . import jsonpatch
from . import pods
from . import state as st

USER = "devx-test"
SERVER = "127.0.0.1:6443"

# Flags that take a value (also accepted as --flag=value).
VALUE_FLAGS = {"--kubeconfig", "--context", "-n", "--namespace", "-o", "--output", "-l", "--selector",
               "-f", "--filename", "-p", "--patch", "--type", "--address", "--field-selector",
               "--request-timeout", "--dry-run", "--pod-running-timeout", "--cascade", "--wait",
               "--ignore-not-found", "--all-namespaces", "--local", "--client"}
BOOL_FLAGS = {"-A", "--all-namespaces", "--ignore-not-found", "--local", "--client", "--wait"}
ALIASES = {"--namespace": "-n", "--output": "-o", "--selector": "-l", "--filename": "-f",
           "--patch": "-p", "--all-namespaces": "-A"}


class Exit(Exception):
    def __init__(self, code, stderr=""):
        super().__init__(stderr)
        self.code = code
        self.stderr = stderr


def fail(message, code=1):
    raise Exit(code, message)


def parse(argv):
    flags, positional = {}, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a != "-":
            name, eq, value = a.partition("=")
            name = ALIASES.get(name, name)
            if eq:
                flags[name] = value
            elif name in BOOL_FLAGS:
                flags[name] = "true"
            elif name in VALUE_FLAGS or name in ALIASES.values():
                if i + 1 >= len(argv):
                    fail("error: flag needs an argument: '%s' in %s" % (a.lstrip("-")[:1], a))
                flags[name] = argv[i + 1]
                i += 1
            else:
                fail("error: unknown flag: %s\nSee 'kubectl --help' for usage." % a)
        else:
            positional.append(a)
        i += 1
    return flags, positional


def out(text):
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def check_server(s, config):
    if config.get("unreachable"):
        fail('E1128 15:26:01.123456   12345 memcache.go:265] "Unhandled Error" err="couldn\'t get current '
             'server API group list: Get \\"https://%s/api?timeout=32s\\": dial tcp %s: connect: '
             'connection refused"\nThe connection to the server %s was refused - did you specify the '
             "right host or port?" % (SERVER, SERVER, SERVER))


def check_allowed(config, verb, info, ns, name=None, subresource=None):
    resource = info[1] + ("/" + subresource if subresource else "")
    if "%s %s" % (verb, resource) not in (config.get("forbidden") or []):
        return
    group = info[2].rsplit("/", 1)[0] if "/" in info[2] else ""
    what = '%s "%s"' % (st.qualified(info), name) if name else st.qualified(info)
    where = ' in the namespace "%s"' % ns if ns else " at the cluster scope"
    message = '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s"%s' % (
        what, USER, verb, resource, group, where)
    if subresource == "portforward":
        fail("error: error upgrading connection: " + message)
    fail("Error from server (Forbidden): " + message)


def resolve_kind(alias):
    info = st.kind_info(alias)
    if info is None:
        fail('error: the server doesn\'t have a resource type "%s"' % alias)
    return info


def not_found(info, name):
    return 'Error from server (NotFound): %s "%s" not found' % (st.qualified(info), name)


def present(s, obj):
    """The object as the API server would return it now (live pod and Job status)."""
    if obj["kind"] == "Pod":
        pods.refresh_pod(s, obj)
    elif obj["kind"] == "Job":
        pods.refresh_job(s, obj)
    return obj


def print_objects(flags, objects, info, single):
    fmt = flags.get("-o", "")
    if fmt == "json":
        if single:
            out(st.go_json(objects[0]))
        else:
            out(st.go_json({"apiVersion": "v1", "items": objects, "kind": "List",
                            "metadata": {"resourceVersion": ""}}))
    elif fmt == "yaml":
        doc = objects[0] if single else {"apiVersion": "v1", "items": objects, "kind": "List",
                                         "metadata": {"resourceVersion": ""}}
        out(yaml.safe_dump(doc, default_flow_style=False))
    elif fmt == "name":
        for o in objects:
            out("%s/%s" % (st.short_kind(st.kind_info(o["kind"])), o["metadata"]["name"]))
    elif fmt == "":
        out("NAME" + "\n".join([""] + [o["metadata"]["name"] for o in objects]))
    else:
        fail("error: unable to match a printer suitable for the output format \"%s\", allowed formats "
             "are: json,name,yaml" % fmt)


# -- commands ------------------------------------------------------------------------------------
def cmd_version(s, flags, args):
    client = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "fake",
              "gitTreeState": "clean", "buildDate": "2025-05-15T20:09:34Z", "goVersion": "go1.23.8",
              "compiler": "gc", "platform": "linux/amd64"}
    doc = {"clientVersion": client, "kustomizeVersion": "v5.5.0"}
    if "--client" not in flags:
        check_server(s, s.config())
        doc["serverVersion"] = dict(client, gitVersion="v1.31.2", minor="31")
    if flags.get("-o") == "json":
        out(st.go_json(doc))
    else:
        out("Client Version: v1.32.4\nKustomize Version: v5.5.0" +
            ("\nServer Version: v1.31.2" if "serverVersion" in doc else ""))


def cmd_cluster_info(s, flags, args):
    check_server(s, s.config())
    out("\x1b[0;32mKubernetes control plane\x1b[0m is running at \x1b[0;33mhttps://%s\x1b[0m\n\n"
        "To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'." % SERVER)


def cmd_get(s, flags, args):
    config = s.config()
    check_server(s, config)
    if not args:
        fail("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete "
             "list of supported resources.")
    info = resolve_kind(args[0])
    ns = flags.get("-n", "default")
    if len(args) > 1:
        check_allowed(config, "get", info, ns, args[1])
        found = []
        for name in args[1:]:
            obj = s.get(info, ns, name)
            if obj is None:
                fail(not_found(info, name))
            found.append(present(s, obj))
        print_objects(flags, found, info, single=len(found) == 1)
        return
    all_ns = "-A" in flags
    check_allowed(config, "list", info, None if all_ns else ns)
    objects = [present(s, o) for o in s.list(info, None if all_ns else ns)
               if st.label_matches(o["metadata"].get("labels"), flags.get("-l"))
               and st.field_matches(o, flags.get("--field-selector"))]
    if not objects and flags.get("-o") not in ("json", "yaml"):
        sys.stderr.write("No resources found\n" if all_ns else "No resources found in %s namespace.\n" % ns)
        return
    print_objects(flags, objects, info, single=False)


def _documents(text):
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        fail("error: error parsing STDIN: error converting YAML to JSON: %s" % str(e).replace("\n", " "))
    items = []
    for d in docs:
        if not isinstance(d, dict):
            fail("error: error validating data: invalid object to validate")
        if str(d.get("kind", "")).endswith("List") and "items" in d:
            items.extend(d.get("items") or [])
        else:
            items.append(d)
    return items


def _normalise_new(s, obj):
    kind = obj["kind"]
    if kind == "Secret":
        data = obj.setdefault("data", {})
        for k, v in (obj.pop("stringData", None) or {}).items():
            data[k] = base64.b64encode(str(v).encode()).decode()
    elif kind == "Service":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("clusterIP", "10.96.%d.%d" % (len(s.list(st.kind_info("service"))) // 250,
                                                         len(s.list(st.kind_info("service"))) % 250 + 2))
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
    elif kind == "Job":
        spec = obj.setdefault("spec", {})
        spec.setdefault("suspend", False)
        spec.setdefault("backoffLimit", 6)
        obj.setdefault("status", {})
    return obj


def cmd_apply(s, flags, args):
    config = s.config()
    source = flags.get("-f")
    if source is None:
        fail("error: must specify one of -f and -k")
    text = sys.stdin.read() if source == "-" else open(source).read()
    items = _documents(text)
    if not items:
        fail("error: no objects passed to apply")
    dry = flags.get("--dry-run") in ("client", "server")
    if not dry:
        check_server(s, config)
    flag_ns = flags.get("-n")
    results, lines = [], []
    for item in items:
        info = st.kind_info(str(item.get("kind", "")))
        if info is None:
            fail('error: resource mapping not found for name: "%s" namespace: "%s" from "STDIN": no matches '
                 'for kind "%s" in version "%s"' % (item.get("metadata", {}).get("name", ""), flag_ns or "",
                                                     item.get("kind"), item.get("apiVersion")))
        meta = item.setdefault("metadata", {})
        if not meta.get("name"):
            fail('error: error when retrieving current configuration of:\nResource: "%s", GroupVersionKind: '
                 '"%s"\nName: "", Namespace: "%s"\nfrom server for: "STDIN": resource name may not be empty'
                 % (st.qualified(info), item.get("kind"), flag_ns or "default"))
        if info[3]:
            if flag_ns and meta.get("namespace") and meta["namespace"] != flag_ns:
                fail('error: the namespace from the provided object "%s" does not match the namespace "%s". '
                     "You must pass '--namespace=%s' to perform this operation." % (meta["namespace"], flag_ns,
                                                                                     meta["namespace"]))
            meta.setdefault("namespace", flag_ns or "default")
        applied = copy.deepcopy(item)
        applied["metadata"].setdefault("annotations", {})[
            "kubectl.kubernetes.io/last-applied-configuration"] = st.go_json(item, indent=False) + "\n"
        ns = meta.get("namespace", "")
        existing = s.get(info, ns, meta["name"])
        check_allowed(config, "get", info, ns, meta["name"])
        check_allowed(config, "patch" if existing else "create", info, ns, meta["name"])
        if dry:
            results.append(applied)
            lines.append("%s/%s %s (dry run)" % (st.short_kind(info), meta["name"],
                                                 "configured" if existing else "created"))
            continue
        if existing is None:
            obj = _normalise_new(s, s.stamp_new(applied))
            verb = "created"
        else:
            last = json.loads((existing["metadata"].get("annotations") or {}).get(
                "kubectl.kubernetes.io/last-applied-configuration", "{}") or "{}")
            patch = jsonpatch.create_merge_patch(last, applied)
            patch.get("metadata", {}).pop("uid", None)
            obj = jsonpatch.apply_merge_patch(existing, patch)
            verb = "unchanged" if obj == existing else "configured"
            if verb == "configured":
                if obj["kind"] == "Secret":
                    _normalise_new(s, obj)
                obj["metadata"]["resourceVersion"] = s.next_resource_version()
        s.put(obj)
        if obj["kind"] == "Job":
            pods.reconcile_job(s, obj)
            obj = s.get(info, ns, meta["name"])
        results.append(obj)
        lines.append("%s/%s %s" % (st.short_kind(info), meta["name"], verb))
    if flags.get("-o") == "json":
        print_objects(flags, results, None, single=len(results) == 1)
    else:
        out("\n".join(lines))


def _strip_empty_metadata(obj):
    # The API server round-trips through typed objects: empty label/annotation maps disappear.
    meta = obj.get("metadata", {})
    for key in ("annotations", "labels"):
        if key in meta and not meta[key]:
            del meta[key]
    return obj


def _apply_patch(patch_type, target, text, local):
    try:
        patch = json.loads(text)
    except ValueError:
        try:
            patch = yaml.safe_load(text)
        except yaml.YAMLError as e:
            fail("error: unable to parse \"%s\": %s" % (text, e))
    try:
        if patch_type == "json":
            return jsonpatch.apply_json_patch(target, patch)
        if patch_type in ("merge", "strategic"):
            if not isinstance(patch, dict):
                fail("error: unable to parse \"%s\": json: cannot unmarshal into Go value of type "
                     "map[string]interface {}" % text)
            return jsonpatch.apply_merge_patch(target, patch)
        fail('error: --type must be one of [json merge strategic], not "%s"' % patch_type)
    except jsonpatch.PatchError as e:
        if local:
            fail("error: " + str(e))
        # The API server answers 422 for a patch it cannot apply, a failed `test` included.
        fail("The request is invalid: the server rejected our request due to an error in our request")


def cmd_patch(s, flags, args):
    patch_text = flags.get("-p")
    if patch_text is None:
        fail("error: must specify -p to patch")
    patch_type = flags.get("--type", "strategic")
    if "--local" in flags:
        source = flags.get("-f")
        if not source:
            fail("error: cannot specify --local and server resources")
        with open(source) as f:
            obj = yaml.safe_load(f)
        result = _apply_patch(patch_type, obj, patch_text, local=True)
        if flags.get("-o") == "json":
            out(st.go_json(result))
        else:
            out("%s/%s patched" % (st.short_kind(st.kind_info(obj["kind"])), obj["metadata"]["name"]))
        return
    config = s.config()
    check_server(s, config)
    if len(args) == 1 and "/" in args[0]:
        args = args[0].split("/", 1)
    if len(args) != 2:
        fail("error: resource(s) were provided, but no name was specified")
    info = resolve_kind(args[0])
    ns = flags.get("-n", "default")
    name = args[1]
    check_allowed(config, "patch", info, ns, name)
    obj = s.get(info, ns, name)
    if obj is None:
        fail(not_found(info, name))
    result = _strip_empty_metadata(_apply_patch(patch_type, obj, patch_text, local=False))
    changed = result != obj
    if changed:
        for key in ("uid", "creationTimestamp", "name", "namespace"):
            if obj["metadata"].get(key) is not None:
                result["metadata"][key] = obj["metadata"][key]
        result["metadata"]["resourceVersion"] = s.next_resource_version()
        s.put(result)
        if result["kind"] == "Job":
            pods.reconcile_job(s, result)
            result = s.get(info, ns, name)
    if flags.get("-o") == "json":
        out(st.go_json(present(s, result)))
    else:
        out("%s/%s patched%s" % (st.short_kind(info), name, "" if changed else " (no change)"))


def cmd_delete(s, flags, args):
    config = s.config()
    check_server(s, config)
    if len(args) == 1 and "/" in args[0]:
        args = args[0].split("/", 1)
    if len(args) < 2:
        fail("error: resource(s) were provided, but no name was specified")
    info = resolve_kind(args[0])
    ns = flags.get("-n", "default")
    ignore = flags.get("--ignore-not-found", "false") != "false"
    for name in args[1:]:
        check_allowed(config, "delete", info, ns, name)
        obj = s.get(info, ns, name)
        if obj is None:
            if ignore:
                continue
            fail(not_found(info, name))
        if obj["kind"] == "Pod":
            pods.stop_agent(s, ns, name)
        s.delete_file(info, ns, name)
        pods.collect_garbage(s, obj["metadata"].get("uid"))
        out('%s "%s" deleted' % (st.short_kind(info), name))


def cmd_fake_shutdown(s, flags, args):
    pods.shutdown(s)


COMMANDS = {
    "version": cmd_version,
    "cluster-info": cmd_cluster_info,
    "get": cmd_get,
    "apply": cmd_apply,
    "patch": cmd_patch,
    "delete": cmd_delete,
    "fake-shutdown": cmd_fake_shutdown,
}


def main(argv):
    root = os.environ.get("FAKE_KUBE_STATE")
    if not root:
        sys.stderr.write("fake kubectl: set FAKE_KUBE_STATE to a state directory\n")
        return 2
    s = st.State(root)
    try:
        flags, positional = parse(argv)
        with s:
            s.log_call({"argv": ["kubectl"] + argv, "kubeconfig_env": os.environ.get("KUBECONFIG")})
            contexts = s.config().get("contexts")
            if "--context" in flags and contexts is not None and flags["--context"] not in contexts:
                fail("error: context was not found for specified context: %s" % flags["--context"])
        if not positional:
            fail("kubectl controls the Kubernetes cluster manager.", 0)
        command = positional[0]
        if command == "port-forward":
            from . import portforward
            return portforward.run(s, flags, positional[1:])
        handler = COMMANDS.get(command)
        if handler is None:
            fail('error: unknown command "%s" for "kubectl"' % command)
        with s:
            handler(s, flags, positional[1:])
        return 0
    except Exit as e:
        if e.stderr:
            sys.stderr.write(e.stderr.rstrip("\n") + "\n")
        return e.code
