"""RFC 6902 (JSON patch) and RFC 7386 (merge patch) with the error texts kubectl prints (it uses
github.com/evanphx/json-patch, whose quirks are kept: `replace` of a missing object key adds it)."""
import copy


class PatchError(Exception):
    pass


class TestFailed(PatchError):
    pass


def _unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def _split(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("JSON pointer must be empty or start with a \"/")
    return [_unescape(t) for t in path[1:].split("/")]


def _container(doc, tokens):
    """The parent of the pointed-to value, or None when a step is missing."""
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                return None
            node = node[token]
        elif isinstance(node, list):
            try:
                i = int(token)
            except ValueError:
                return None
            if i < 0 or i >= len(node):
                return None
            node = node[i]
        else:
            return None
    return node


def _get(doc, path):
    node = doc
    for token in _split(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(path)
    return node


def _equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _add(doc, path, value):
    tokens = _split(path)
    if not tokens:
        return value
    parent = _container(doc, tokens)
    if parent is None:
        raise PatchError('add operation does not apply: doc is missing path: "%s": missing value' % path)
    key = tokens[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        if key == "-":
            parent.append(value)
            return doc
        try:
            i = int(key)
        except ValueError:
            raise PatchError("error in add for path: '%s': Unable to access invalid index: %s: invalid index referenced" % (path, key))
        if i < 0 or i > len(parent):
            raise PatchError("error in add for path: '%s': Unable to access invalid index: %d: invalid index referenced" % (path, i))
        parent.insert(i, value)
    else:
        raise PatchError('add operation does not apply: doc is missing path: "%s": missing value' % path)
    return doc


def _remove(doc, path):
    tokens = _split(path)
    parent = _container(doc, tokens) if tokens else None
    if parent is None:
        raise PatchError('remove operation does not apply: doc is missing path: "%s": missing value' % path)
    key = tokens[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError("error in remove for path: '%s': Unable to remove nonexistent key: %s: missing value" % (path, key))
        return parent.pop(key)
    if isinstance(parent, list):
        if not key.isdigit() or int(key) >= len(parent):
            raise PatchError("error in remove for path: '%s': Unable to access invalid index: %s: invalid index referenced" % (path, key))
        return parent.pop(int(key))
    raise PatchError('remove operation does not apply: doc is missing path: "%s": missing value' % path)


def _replace(doc, path, value):
    tokens = _split(path)
    if not tokens:
        return value
    parent = _container(doc, tokens)
    if parent is None:
        raise PatchError("replace operation does not apply: doc is missing path: %s: missing value" % path)
    key = tokens[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        if not key.isdigit() or int(key) >= len(parent):
            raise PatchError("Object to be patched is missing field (%s: missing value)" % path)
        parent[int(key)] = value
    else:
        raise PatchError("replace operation does not apply: doc is missing path: %s: missing value" % path)
    return doc


def apply_json_patch(doc, ops):
    """Applies all ops to a copy of doc, or raises PatchError / TestFailed."""
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        kind = "object" if isinstance(ops, dict) else "string" if isinstance(ops, str) else "number"
        raise PatchError("json: cannot unmarshal %s into Go value of type jsonpatch.Patch" % kind)
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        path = op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            doc = _replace(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "test":
            tokens = _split(path)
            if tokens and _container(doc, tokens) is None:
                raise PatchError("test operation does not apply: is missing path: %s: missing value" % path)
            try:
                current = _get(doc, path)
            except KeyError:
                if op.get("value") is None:
                    continue
                raise TestFailed("testing value %s failed: test failed" % path)
            if not _equal(current, op.get("value")):
                raise TestFailed("testing value %s failed: test failed" % path)
        elif kind in ("move", "copy"):
            source = op.get("from", "")
            try:
                value = copy.deepcopy(_get(doc, source))
            except KeyError:
                raise PatchError('%s operation does not apply: doc is missing from path: "%s": missing value' % (kind, source))
            if kind == "move":
                _remove(doc, source)
            doc = _add(doc, path, value)
        else:
            raise PatchError("Unexpected kind: %s" % kind)
    return doc


def apply_merge_patch(doc, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def create_merge_patch(original, modified):
    """The merge patch taking original to modified (kubectl apply's three-way merge, simplified)."""
    patch = {}
    for key, value in modified.items():
        if key not in original:
            patch[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(original[key], dict):
            sub = create_merge_patch(original[key], value)
            if sub:
                patch[key] = sub
        elif not _equal(original[key], value):
            patch[key] = copy.deepcopy(value)
    for key in original:
        if key not in modified:
            patch[key] = None
    return patch
