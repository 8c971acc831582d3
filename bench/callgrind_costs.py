"""Reading callgrind's output: the program's instruction total and each function's own cost,
keyed by a short, stable name (used by run_bench.py to report instructions per echo message)."""
import re
import subprocess


def callgrind_total_ir(path):
    """The Ir total that callgrind writes at the end of its output file."""
    total = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    if total is None:
        raise RuntimeError(f"no totals line in {path}")
    return total


def callgrind_function_costs(path):
    """Own (exclusive) Ir per function, from callgrind_annotate, keyed by a short name."""
    try:
        out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(path)],
                             capture_output=True, text=True, timeout=300).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    costs = {}
    in_table = False
    for line in out.splitlines():
        if "file:function" in line:
            in_table = True
            continue
        if not in_table or line.startswith("---"):
            continue
        if not line.strip():
            break
        m = re.match(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = short_function_name(m.group(2))
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def short_function_name(text):
    """'src/net/x.cpp:ns::f(args) [/path/bin]' -> 'ns::f() (src/net/x.cpp)'."""
    text = text.strip()
    while True:
        shorter = re.sub(r"\s*\[[^\]]*\]$", "", text)
        if shorter == text:
            break
        text = shorter
    where = ""
    m = re.match(r"^([^\s:]*\.(?:c|cc|cpp|cxx|h|hpp|S|s)|\?\?\?):(.*)$", text)
    if m:
        where, text = m.group(1), m.group(2)
        where = re.sub(r"^(\./)+", "", where).replace("./", "")
    text = re.sub(r"\(.*\)", "()", text.replace("(anonymous namespace)", "{anonymous}"))
    return f"{text} ({where})" if where and where != "???" else text
