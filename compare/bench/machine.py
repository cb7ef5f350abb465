"""What a speed record says about the machine: CPU model, cores, package versions.

A timing means little without the hardware it came from: records name the CPU model (from
/proc/cpuinfo where Linux has one) beside the core count; the GPU's name comes from the worker
that used it (`torch.cuda.get_device_name`).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from compare.records import versions


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The first "model name" of /proc/cpuinfo, else platform.processor(), else "unknown"."""
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts() -> dict[str, object]:
    """{"machine", "cpu_model", "versions"} for a bench record."""
    return {
        "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} CPU cores",
        "cpu_model": cpu_model(),
        "versions": versions(),
    }
