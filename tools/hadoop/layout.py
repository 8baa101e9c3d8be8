#!/usr/bin/env python3
"""Lay out Maven-resolved Hadoop jars like the official binary tarball.

Called by tools/hadoop/build-dist.sh; not meant to be run by hand.

    layout.py VERSION STAGING DIST ALL_LIST GROUP=LIST [GROUP=LIST ...]

STAGING   output of `dependency:copy-dependencies -Dmdep.useRepositoryLayout=true`
          for the combined pom (every group at once, so Maven's mediation picks a
          single version of each library).
ALL_LIST  `dependency:list` output of the combined pom: the versions to use.
GROUP=LIST  `dependency:list` output of one group's pom, in classpath order
          (common, hdfs, yarn, mapreduce, timelineservice). A library goes to the
          first group whose closure holds it, so each jar is in the tree once.

Writes DIST (hadoop-VERSION/) and prints the jar list as JSON on stdout.
"""

import json
import os
import shutil
import sys

# Where each group's jars go, relative to hadoop-VERSION/ (top folder, lib folder).
TARGETS = {
    "common": ("share/hadoop/common", "share/hadoop/common/lib"),
    "hdfs": ("share/hadoop/hdfs", "share/hadoop/hdfs/lib"),
    "yarn": ("share/hadoop/yarn", "share/hadoop/yarn/lib"),
    "mapreduce": ("share/hadoop/mapreduce", "share/hadoop/mapreduce/lib"),
    # As in the official tarball: not on the default daemon classpath.
    "timelineservice": ("share/hadoop/yarn/timelineservice",
                        "share/hadoop/yarn/timelineservice/lib"),
}

# Hadoop's own jars that the official tarball keeps in common/lib.
HADOOP_JARS_IN_LIB = {"hadoop-auth", "hadoop-annotations"}


def parse_list(path):
    """Return {(group, artifact, classifier): (version, type)} from dependency:list."""
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.split(" -- ", 1)[0].strip()
            if not line or " " in line:
                continue
            parts = line.split(":")
            if len(parts) == 5:
                g, a, t, v, _scope = parts
                c = ""
            elif len(parts) == 6:
                g, a, t, c, v, _scope = parts
            else:
                continue
            out[(g, a, c)] = (v, t)
    return out


def jar_name(a, v, c):
    return f"{a}-{v}" + (f"-{c}" if c else "") + ".jar"


def main(argv):
    version, staging, dist, all_list = argv[1:5]
    groups = []
    for spec in argv[5:]:
        name, path = spec.split("=", 1)
        groups.append((name, parse_list(path)))

    chosen = parse_list(all_list)
    assigned = {}
    for name, members in groups:
        for key in members:
            assigned.setdefault(key, name)

    jars = []
    for (g, a, c), (v, t) in sorted(chosen.items()):
        if t != "jar":
            continue
        src = os.path.join(staging, *g.split("."), a, v, jar_name(a, v, c))
        if not os.path.isfile(src):
            sys.exit(f"layout.py: missing resolved jar {src}")
        group = assigned.get((g, a, c), "common")
        top, lib = TARGETS[group]
        is_project = g == "org.apache.hadoop" and a.startswith("hadoop-") \
            and a not in HADOOP_JARS_IN_LIB
        rel = os.path.join(top if is_project else lib, jar_name(a, v, c))
        dst = os.path.join(dist, rel)
        if os.path.exists(dst):
            sys.exit(f"layout.py: two artifacts map to {rel}")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        jars.append({"path": rel, "gav": f"{g}:{a}:{v}" + (f":{c}" if c else "")})

    # The same artifactId under two groupIds is a likely duplicate-class risk
    # (several classifiers of one artifact, e.g. netty natives, are fine).
    seen = {}
    for j in jars:
        g, a = j["gav"].split(":")[:2]
        seen.setdefault(a, set()).add(g)
    dups = {a: sorted(gs) for a, gs in seen.items() if len(gs) > 1}
    if dups:
        print(f"layout.py: warning: same artifactId under several groupIds: {dups}",
              file=sys.stderr)

    jars.sort(key=lambda j: j["path"])
    json.dump(jars, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv)
