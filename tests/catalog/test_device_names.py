"""Names as drivers report them resolve to the right spec-table row, and that row says where its figures are from.

Each case is (name the driver reports, VRAM it reports, GPU cores or CUs it reports, expected row). NVML names
and memory totals are those nvidia-smi prints (e.g. "NVIDIA GH200 480GB" with 97871 MiB); AMD names are amdgpu's
product_name, or ROCm's generic "AMD Radeon Graphics" with the gfx target and CU count from the KFD topology;
Apple names are `sysctl machdep.cpu.brand_string` with the core count system_profiler reports.
"""

from __future__ import annotations

import pytest

from rigcheck.catalog import devices
from rigcheck.catalog.records import decode_catalog
from rigcheck.catalog.store import embedded_catalog_path
from rigcheck.cli.main import main
from rigcheck.probe.types import Gpu

MIB = 2**20
GIB = 2**30


@pytest.fixture(scope="module")
def table():
    return decode_catalog(embedded_catalog_path().read_bytes()).devices


NVIDIA = [
    # cloud and data-centre parts
    ("NVIDIA A10G", 23028 * MIB, "NVIDIA A10G"),
    ("NVIDIA A10", 23028 * MIB, "NVIDIA A10"),
    ("NVIDIA L4", 23034 * MIB, "NVIDIA L4"),
    ("NVIDIA L40S", 46068 * MIB, "NVIDIA L40S"),
    ("Tesla T4", 15360 * MIB, "NVIDIA T4"),
    ("Tesla P40", 24576 * MIB, "NVIDIA Tesla P40"),
    ("Tesla P100-PCIE-16GB", 16384 * MIB, "NVIDIA Tesla P100 PCIe 16GB"),
    ("Tesla P100-PCIE-12GB", 12198 * MIB, "NVIDIA Tesla P100 PCIe 12GB"),
    ("Tesla P100-SXM2-16GB", 16280 * MIB, "NVIDIA Tesla P100 SXM2 16GB"),
    ("Tesla V100-PCIE-16GB", 16160 * MIB, "NVIDIA V100 PCIe 16GB"),
    ("Tesla V100-PCIE-32GB", 32510 * MIB, "NVIDIA V100 PCIe 32GB"),
    ("Tesla V100-SXM2-16GB", 16160 * MIB, "NVIDIA V100 SXM2 16GB"),
    ("Tesla V100-SXM2-32GB", 32510 * MIB, "NVIDIA V100 SXM2 32GB"),
    ("Tesla V100-SXM3-32GB", 32510 * MIB, "NVIDIA V100 SXM3 32GB"),
    ("Tesla V100S-PCIE-32GB", 32510 * MIB, "NVIDIA V100S PCIe 32GB"),
    ("NVIDIA A100-SXM4-80GB", 81920 * MIB, "NVIDIA A100 80GB SXM"),
    ("NVIDIA H100 80GB HBM3", 81559 * MIB, "NVIDIA H100 SXM"),
    ("NVIDIA H100 PCIe", 81559 * MIB, "NVIDIA H100 PCIe"),
    ("NVIDIA H200", 143771 * MIB, "NVIDIA H200 SXM"),
    ("NVIDIA GH200 480GB", 97871 * MIB, "NVIDIA GH200 96GB HBM3"),
    ("NVIDIA GH200 144G HBM3e", 146831 * MIB, "NVIDIA GH200 144GB HBM3e"),
    ("NVIDIA B200", 183359 * MIB, "NVIDIA B200"),
    ("NVIDIA B300 SXM6 AC", 275040 * MIB, "NVIDIA B300"),
    ("NVIDIA GB200", 189471 * MIB, "NVIDIA GB200 (per Blackwell GPU)"),
    ("NVIDIA GB10", None, "NVIDIA DGX Spark (GB10)"),
    # workstation parts
    ("Quadro RTX 8000", 48601 * MIB, "NVIDIA Quadro RTX 8000"),
    ("Quadro RTX 6000", 24220 * MIB, "NVIDIA Quadro RTX 6000"),
    ("NVIDIA RTX A2000", 6138 * MIB, "NVIDIA RTX A2000"),
    ("NVIDIA RTX A2000 12GB", 12282 * MIB, "NVIDIA RTX A2000 12GB"),
    ("NVIDIA RTX A4000", 16376 * MIB, "NVIDIA RTX A4000"),
    ("NVIDIA RTX A4500", 20470 * MIB, "NVIDIA RTX A4500"),
    ("NVIDIA RTX A5000", 24564 * MIB, "NVIDIA RTX A5000"),
    ("NVIDIA RTX A5500", 24564 * MIB, "NVIDIA RTX A5500"),
    ("NVIDIA RTX A6000", 49140 * MIB, "NVIDIA RTX A6000"),
    ("NVIDIA RTX 2000 Ada Generation", 16380 * MIB, "NVIDIA RTX 2000 Ada Generation"),
    ("NVIDIA RTX 4000 Ada Generation", 20475 * MIB, "NVIDIA RTX 4000 Ada Generation"),
    ("NVIDIA RTX 4000 SFF Ada Generation", 20475 * MIB, "NVIDIA RTX 4000 SFF Ada Generation"),
    ("NVIDIA RTX 4500 Ada Generation", 24570 * MIB, "NVIDIA RTX 4500 Ada Generation"),
    ("NVIDIA RTX 5000 Ada Generation", 32760 * MIB, "NVIDIA RTX 5000 Ada Generation"),
    ("NVIDIA RTX 6000 Ada Generation", 49140 * MIB, "NVIDIA RTX 6000 Ada Generation"),
    ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", 97887 * MIB,
     "NVIDIA RTX PRO 6000 Blackwell Workstation Edition"),
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", 97887 * MIB, "NVIDIA RTX PRO 6000 Blackwell Server Edition"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", 97887 * MIB,
     "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition"),
    # laptops
    ("NVIDIA GeForce RTX 4060 Laptop GPU", 8188 * MIB, "NVIDIA GeForce RTX 4060 Laptop GPU"),
    ("NVIDIA GeForce RTX 4070 Laptop GPU", 8188 * MIB, "NVIDIA GeForce RTX 4070 Laptop GPU"),
    ("NVIDIA GeForce RTX 4080 Laptop GPU", 12282 * MIB, "NVIDIA GeForce RTX 4080 Laptop GPU"),
    ("NVIDIA GeForce RTX 4090 Laptop GPU", 16376 * MIB, "NVIDIA GeForce RTX 4090 Laptop GPU"),
    ("NVIDIA GeForce RTX 5070 Laptop GPU", 8151 * MIB, "NVIDIA GeForce RTX 5070 Laptop GPU"),
    ("NVIDIA GeForce RTX 5070 Ti Laptop GPU", 12227 * MIB, "NVIDIA GeForce RTX 5070 Ti Laptop GPU"),
    ("NVIDIA GeForce RTX 5080 Laptop GPU", 16303 * MIB, "NVIDIA GeForce RTX 5080 Laptop GPU"),
    ("NVIDIA GeForce RTX 5090 Laptop GPU", 24463 * MIB, "NVIDIA GeForce RTX 5090 Laptop GPU"),
]


@pytest.mark.parametrize(("name", "vram_bytes", "expected"), NVIDIA, ids=[case[0] for case in NVIDIA])
def test_nvml_names_resolve_to_their_row(table, name, vram_bytes, expected):
    gpu = Gpu(index=0, vendor="nvidia", name=name, vram_total_bytes=vram_bytes, unified_memory=vram_bytes is None)
    device = devices.resolve_gpu(gpu, table)
    assert device is not None and device.name == expected
    assert device.sources, f"{expected} has no sources"


AMD = [
    # (product name, VRAM, CUs, architecture as the probe writes it, unified, expected)
    ("AMD Instinct MI210", 64 * GIB, 104, "gfx90a (GCN 5 / CDNA)", False, "AMD Instinct MI210"),
    ("AMD Instinct MI250X", 64 * GIB, 110, "gfx90a (GCN 5 / CDNA)", False, "AMD Instinct MI250X (one GCD)"),
    ("AMD Instinct MI250", 64 * GIB, 104, "gfx90a (GCN 5 / CDNA)", False, "AMD Instinct MI250 (one GCD)"),
    ("AMD Instinct MI250X / MI250", 64 * GIB, 110, "gfx90a (GCN 5 / CDNA)", False, "AMD Instinct MI250X (one GCD)"),
    ("AMD Instinct MI300X", 192 * GIB, 304, "gfx942 (CDNA 3)", False, "AMD Instinct MI300X"),
    ("AMD Instinct MI300A", None, 228, "gfx942 (CDNA 3)", True, "AMD Instinct MI300A"),
    ("AMD Instinct MI325X", 256 * GIB, 304, "gfx942 (CDNA 3)", False, "AMD Instinct MI325X"),
    ("AMD Radeon Graphics", None, 40, "gfx1151 (RDNA 3.5)", True, "AMD Ryzen AI Max+ 395 (Radeon 8060S)"),
    ("AMD Radeon Graphics", None, 32, "gfx1151 (RDNA 3.5)", True, "AMD Ryzen AI Max 385 (Radeon 8050S)"),
    # the probe's device-id name for Strix Halo, on a 32-CU part: the CU count overrules the name
    ("AMD Radeon 8060S", None, 32, "gfx1151 (RDNA 3.5)", True, "AMD Ryzen AI Max 385 (Radeon 8050S)"),
]


@pytest.mark.parametrize(("name", "vram_bytes", "cus", "arch", "unified", "expected"), AMD,
                         ids=[f"{case[0]}-{case[2]}CU" for case in AMD])
def test_amd_names_resolve_to_their_row(table, name, vram_bytes, cus, arch, unified, expected):
    gpu = Gpu(index=0, vendor="amd", name=name, vram_total_bytes=vram_bytes, gpu_cores=cus, architecture=arch,
              unified_memory=unified)
    device = devices.resolve_gpu(gpu, table)
    assert device is not None and device.name == expected
    assert device.sources


def test_generic_amd_name_without_a_cu_count_stays_unknown(table):
    # Two Strix Halo bins share gfx1151: without the CU count the name is ambiguous, so no row is claimed.
    gpu = Gpu(index=0, vendor="amd", name="AMD Radeon Graphics", architecture="gfx1151 (RDNA 3.5)", unified_memory=True)
    assert devices.resolve_gpu(gpu, table) is None


APPLE_BINS = {
    "M1": (7, 8), "M1 Pro": (14, 16), "M1 Max": (24, 32), "M1 Ultra": (48, 64),
    "M2": (8, 10), "M2 Pro": (16, 19), "M2 Max": (30, 38), "M2 Ultra": (60, 76),
    "M3": (8, 10), "M3 Pro": (14, 18), "M3 Max": (30, 40), "M3 Ultra": (60, 80),
    "M4": (8, 10), "M4 Pro": (16, 20), "M4 Max": (32, 40),
    "M5": (10,), "M5 Pro": (20,), "M5 Max": (40,),
}
APPLE = [(chip, cores) for chip, bins in APPLE_BINS.items() for cores in bins]


@pytest.mark.parametrize(("chip", "cores"), APPLE, ids=[f"{chip}-{cores}c" for chip, cores in APPLE])
def test_apple_chip_strings_resolve_by_gpu_cores(table, chip, cores):
    gpu = Gpu(index=0, vendor="apple", name=f"Apple {chip}", unified_memory=True, gpu_cores=cores)
    device = devices.resolve_gpu(gpu, table)
    assert device is not None and device.name.startswith(f"Apple {chip}")
    assert device.gpu_cores in (cores, None), "a row with another core count is not a match"
    assert device.sources and device.bandwidth_bytes_per_s


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("A10G", "NVIDIA A10G"),
        ("tesla p40", "NVIDIA Tesla P40"),
        ("quadro rtx 8000", "NVIDIA Quadro RTX 8000"),
        ("RTX 4090 Laptop", "NVIDIA GeForce RTX 4090 Laptop GPU"),
        ("rtx 5070 ti laptop", "NVIDIA GeForce RTX 5070 Ti Laptop GPU"),
        ("RTX PRO 6000 Server", "NVIDIA RTX PRO 6000 Blackwell Server Edition"),
        ("GH200 480GB", "NVIDIA GH200 96GB HBM3"),
        ("MI300A", "AMD Instinct MI300A"),
        ("Radeon 8050S", "AMD Ryzen AI Max 385 (Radeon 8050S)"),
        ("RTX 4500 Ada", "NVIDIA RTX 4500 Ada Generation"),
    ],
)
def test_devices_command_finds_the_new_rows(capsys, query, expected):
    code = main(["devices", query])
    out, err = capsys.readouterr()
    assert code == 0 and not err
    assert out.splitlines()[2].startswith(expected + " ")


def test_bare_gh200_is_ambiguous(capsys):
    # 96 GB HBM3 or 144 GB HBM3e: a bare "GH200" must name the part.
    code = main(["devices", "GH200"])
    _, err = capsys.readouterr()
    assert code == 2 and "NVIDIA GH200 96GB HBM3" in err and "NVIDIA GH200 144GB HBM3e" in err
