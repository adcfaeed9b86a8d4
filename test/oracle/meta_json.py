"""META.json against the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/) and
against the tree: the required keys and their types, semantic versions, a
known license string, provided files that exist, and the distribution
version equal to clv.control's default_version (PGXN needs three parts:
0.2 is 0.2.0), with a CHANGELOG.md section for it.  Needs no server."""
import json
import os
import re

from clvtap import ROOT, done, ok

SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+)?$")
# The license strings of the spec's "license" section.
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
    "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
    "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
    "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown",
}
RELEASE = {"stable", "testing", "unstable"}

with open(os.path.join(ROOT, "META.json"), encoding="utf-8") as f:
    text = f.read()
try:
    meta = json.loads(text)
    ok(isinstance(meta, dict), "META.json is a JSON object")
except ValueError as e:
    meta = {}
    ok(False, "META.json parses", e)

for key, typ in [("name", str), ("version", str), ("abstract", str), ("provides", dict),
                 ("meta-spec", dict)]:
    ok(isinstance(meta.get(key), typ), f"required key {key} is a {typ.__name__}", repr(meta.get(key)))
m = meta.get("maintainer")
ok(isinstance(m, str) or (isinstance(m, list) and m and all(isinstance(x, str) for x in m)),
   "maintainer is a string or a non-empty list of strings", repr(m))
lic = meta.get("license")
ok(lic in LICENSES or (isinstance(lic, dict) and lic), "license is one of the spec's strings", repr(lic))
ok(meta.get("meta-spec", {}).get("version") == "1.0.0", "meta-spec version 1.0.0")
ok(re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", meta.get("name", "")) is not None, "name has no spaces or slashes")
ok(SEMVER.match(meta.get("version", "")) is not None, "version is a semantic version", meta.get("version"))
ok(meta.get("release_status", "stable") in RELEASE, "release_status is stable, testing or unstable")

for ext, p in meta.get("provides", {}).items():
    ok(isinstance(p.get("file"), str) and os.path.exists(os.path.join(ROOT, p["file"])),
       f"provides.{ext}.file exists", repr(p.get("file")))
    ok(SEMVER.match(p.get("version", "")) is not None, f"provides.{ext}.version is a semantic version")
    if "docfile" in p:
        ok(os.path.exists(os.path.join(ROOT, p["docfile"])), f"provides.{ext}.docfile exists")

with open(os.path.join(ROOT, "clv.control"), encoding="utf-8") as f:
    control = f.read()
dv = re.search(r"^default_version\s*=\s*'([^']+)'", control, re.M).group(1)
want = dv if dv.count(".") == 2 else dv + ".0"
ok(meta.get("version") == want, f"version {meta.get('version')} is clv.control's {dv}")
ok(meta.get("provides", {}).get("clv", {}).get("version") == want, "provides.clv.version likewise")
with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as f:
    changelog = f.read()
ok(re.search(r"^## " + re.escape(dv) + r"\b", changelog, re.M) is not None,
   f"CHANGELOG.md has a section for {dv}")
done()
