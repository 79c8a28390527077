"""Device resolution against the embedded spec table: each row says why it must resolve as it does."""

from __future__ import annotations

import pytest

from rigcheck.catalog import devices
from rigcheck.catalog.records import decode_catalog
from rigcheck.catalog.store import embedded_catalog_path
from rigcheck.probe.types import Gpu

GIB = 2**30


@pytest.fixture(scope="module")
def catalog():
    return decode_catalog(embedded_catalog_path().read_bytes())


@pytest.fixture(scope="module")
def table(catalog):
    return catalog.devices


@pytest.mark.parametrize(
    ("name", "memory_bytes", "gpu_cores", "expected", "why"),
    [
        ("NVIDIA GeForce RTX 4090", None, None, "NVIDIA GeForce RTX 4090", "NVML's name"),
        ("RTX 4090", None, None, "NVIDIA GeForce RTX 4090", "typed short name"),
        ("nvidia rtx4090 24gb", None, None, "NVIDIA GeForce RTX 4090", "run-together, lower case, size given"),
        ("NVIDIA GeForce RTX 4090", int(23.99 * GIB), None, "NVIDIA GeForce RTX 4090", "probed VRAM a bit under 24"),
        ("NVIDIA GeForce RTX 4090 D", None, None, None, "the China-market 4090 D is another part"),
        ("NVIDIA GeForce RTX 4090 Laptop GPU", None, None, "NVIDIA GeForce RTX 4090 Laptop GPU",
         "the laptop part is another chip, with a row of its own"),
        ("RTX 4090", 16 * GIB, None, None, "a 16 GB card is not a 4090: no confident wrong match"),
        ("A100", None, None, None, "40 GB or 80 GB, SXM or PCIe: ambiguous"),
        ("A100 80GB", None, None, "NVIDIA A100 80GB SXM", "the size in the name picks the part"),
        ("NVIDIA A100-SXM4-40GB", 40 * GIB, None, "NVIDIA A100 40GB SXM", "NVML name of the 40 GB SXM"),
        ("NVIDIA A100-SXM4-80GB", 80 * GIB, None, "NVIDIA A100 80GB SXM", "NVML name of the 80 GB SXM"),
        ("NVIDIA A100-PCIE-40GB", None, None, "NVIDIA A100 40GB PCIe", "NVML name of the 40 GB PCIe"),
        ("NVIDIA A100 PCIe", 80 * GIB, None, "NVIDIA A100 80GB PCIe", "probed memory separates 40 from 80"),
        ("NVIDIA A100 PCIe", 40 * GIB, None, "NVIDIA A100 40GB PCIe", "probed memory separates 40 from 80"),
        ("NVIDIA H100 80GB HBM3", int(79.6 * GIB), None, "NVIDIA H100 SXM", "NVML name of the SXM H100"),
        ("NVIDIA H100 PCIe", None, None, "NVIDIA H100 PCIe", "PCIe H100"),
        ("NVIDIA H100 NVL", None, None, "NVIDIA H100 NVL", "NVL is its own part"),
        ("NVIDIA H200", int(140.4 * GIB), None, "NVIDIA H200 SXM", "NVML name of the H200 SXM"),
        ("Tesla T4", int(15 * GIB), None, "NVIDIA T4", "Tesla brand word dropped"),
        ("Tesla V100-PCIE-16GB", 16 * GIB, None, "NVIDIA V100 PCIe 16GB", "16 GB V100 PCIe"),
        ("NVIDIA RTX A6000", None, None, "NVIDIA RTX A6000", "workstation Ampere"),
        ("NVIDIA RTX 6000 Ada Generation", None, None, "NVIDIA RTX 6000 Ada Generation", "workstation Ada"),
        ("NVIDIA GeForce RTX 3060", 12 * GIB, None, "NVIDIA GeForce RTX 3060 12 GB", "12 GB 3060"),
        ("NVIDIA GeForce RTX 3060", 8 * GIB, None, None, "the 8 GB 3060 (narrower bus) is not in the table"),
        ("NVIDIA GeForce RTX 4060 Ti", 16 * GIB, None, "NVIDIA GeForce RTX 4060 Ti 16 GB", "memory picks 16 GB"),
        ("NVIDIA GeForce RTX 4060 Ti", 8 * GIB, None, "NVIDIA GeForce RTX 4060 Ti 8 GB", "memory picks 8 GB"),
        ("NVIDIA GeForce RTX 4060 Ti", None, None, None, "8 or 16 GB: ambiguous"),
        ("RTX 3080", None, None, "NVIDIA GeForce RTX 3080", "the unqualified name is the original 10 GB part"),
        ("NVIDIA GeForce RTX 3080", 12 * GIB, None, "NVIDIA GeForce RTX 3080 12 GB", "probed 12 GB: the later part"),
        ("NVIDIA GB10", None, None, "NVIDIA DGX Spark (GB10)", "DGX Spark's chip name"),
        ("AMD Radeon RX 7900 XTX", None, None, "AMD Radeon RX 7900 XTX", "amdsmi's name"),
        ("Radeon RX 7900 XT", None, None, "AMD Radeon RX 7900 XT", "XT is not XTX"),
        ("AMD Instinct MI300X", None, None, "AMD Instinct MI300X", "Instinct brand word dropped"),
        ("AMD Radeon 8060S Graphics", None, None, "AMD Ryzen AI Max+ 395 (Radeon 8060S)", "Strix Halo iGPU"),
        ("Intel(R) Arc(TM) A770 Graphics", 16 * GIB, None, "Intel Arc A770", "trademark marks dropped"),
        ("Apple M2 Ultra (76-core GPU)", None, None, "Apple M2 Ultra (76-core GPU)", "cores in the name"),
        ("Apple M2 Ultra", 192 * GIB, 60, "Apple M2 Ultra (60-core GPU)", "probed core count; RAM ignored"),
        ("Apple M2 Ultra", None, None, None, "60 or 76 cores: ambiguous"),
        ("M1 Max", None, None, None, "24 or 32 cores: ambiguous"),
        ("M1 Max 24c", None, None, "Apple M1 Max (24-core GPU)", "short core-count form"),
        ("Apple M3 Max", None, 30, "Apple M3 Max (30-core GPU)", "binned M3 Max"),
        ("Apple M3 Ultra", None, 60, "Apple M3 Ultra (60-core GPU)", "binned M3 Ultra by probed cores"),
        ("Apple M3 Ultra", None, None, None, "60 or 80 cores: ambiguous"),
        ("Apple M4 Max", None, 36, None, "no 36-core M4 Max: unknown, not the 40-core"),
        ("Apple M4 Pro", None, 20, "Apple M4 Pro (20-core GPU)", "probed cores"),
        ("Quadro RTX 5000", None, None, None, "not in the table; not the RTX 5000 Ada"),
        ("NVIDIA A10G", None, None, "NVIDIA A10G", "AWS A10G is not the A10 (and its 10G is no size)"),
        ("", None, None, None, "empty name"),
        ("Some Future GPU 9000", None, None, None, "unknown stays unknown"),
    ],
)
def test_resolve(table, name, memory_bytes, gpu_cores, expected, why):
    device = devices.resolve(name, memory_bytes=memory_bytes, gpu_cores=gpu_cores, devices=table)
    assert (device.name if device else None) == expected, why


def test_every_name_and_alias_resolves_to_its_own_device(table):
    # Other modules (planner, cost, calibration) pass the table's own names back in.
    for device in table:
        assert devices.resolve(device.name, devices=table) is device, device.name
        for alias in device.aliases:
            if alias.startswith("gfx"):
                continue  # a gfx target names a family; test_gfx_target_aliases covers them
            assert devices.resolve(alias, devices=table) is device, (alias, device.name)


def test_gfx_target_aliases_resolve_with_the_probed_compute_units(table):
    # A gfx target is shared by a family; the compute-unit count (and VRAM) picks the part, unless two parts
    # share both (MI210 and one GCD of an MI250: 104 CUs, 64 GB each), which stays ambiguous.
    for device in table:
        for alias in (a for a in device.aliases if a.startswith("gfx")):
            assert device.gpu_cores, (alias, device.name)
            twins = [d for d in table if alias in d.aliases and d.gpu_cores == device.gpu_cores
                     and d.memory_bytes == device.memory_bytes]
            found = devices.resolve(alias, gpu_cores=device.gpu_cores, devices=table,
                                    memory_bytes=None if device.unified_memory else device.memory_bytes)
            assert found is (device if len(twins) == 1 else None), (alias, device.name)


def test_resolve_defaults_to_the_catalog_in_use():
    assert devices.resolve("RTX 5090").name == "NVIDIA GeForce RTX 5090"


def test_resolve_gpu_uses_probed_memory_and_cores(table):
    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA A100-PCIE-40GB", vram_total_bytes=40 * GIB)
    assert devices.resolve_gpu(gpu, table).name == "NVIDIA A100 40GB PCIe"
    apple = Gpu(index=0, vendor="apple", name="Apple M1 Pro", unified_memory=True,
                vram_total_bytes=32 * GIB, gpu_cores=14)
    resolved = devices.resolve_gpu(apple, table)
    assert resolved.name == "Apple M1 Pro (14-core GPU)"
    assert resolved.fp32_vector_tflops == 4.6


def test_lookup_explains_ambiguity_and_unknown(table):
    with pytest.raises(devices.DeviceLookupError, match="ambiguous.*A100 40GB SXM.*A100 80GB SXM"):
        devices.lookup("A100", table)
    with pytest.raises(devices.DeviceLookupError, match="unknown GPU 'RTX 40'; did you mean: NVIDIA GeForce RTX 40"):
        devices.lookup("RTX 40", table)
    with pytest.raises(devices.DeviceLookupError, match="`rigcheck devices` lists"):
        devices.lookup("zzzz", table)
    assert devices.lookup("h100 sxm5", table).name == "NVIDIA H100 SXM"


@pytest.mark.parametrize(("typed", "expected"), [
    ("4090", "NVIDIA GeForce RTX 4090"),  # not its laptop part: the shortest name, which starts every other
    ("3090", "NVIDIA GeForce RTX 3090"),  # not the 3090 Ti
    ("4090 laptop", "NVIDIA GeForce RTX 4090 Laptop GPU"),
    ("3090 Ti", "NVIDIA GeForce RTX 3090 Ti"),
])
def test_a_short_typed_name_means_the_original_part(catalog, typed, expected):
    assert devices.lookup(typed, catalog.devices).name == expected


@pytest.mark.parametrize("typed", ["A100", "M3 Ultra"])  # sizes and bins: no name is the original part
def test_a_short_name_over_parts_of_equal_standing_stays_ambiguous(catalog, typed):
    with pytest.raises(devices.DeviceLookupError, match="ambiguous"):
        devices.lookup(typed, catalog.devices)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("64GB", 64 * GIB), ("64 GiB", 64 * GIB), ("64gb", 64 * GIB), ("64", 64 * GIB), ("1.5TB", int(1.5 * 1024 * GIB)),
     ("512g", 512 * GIB), ("2048MB", 2 * GIB), ("1T", 1024 * GIB), ("4096B", 4096),
     ("1e3GB", 1000 * GIB), ("1.5e3", 1500 * GIB)],  # a number in any notation, as every numeric flag reads one
)
def test_parse_size(text, expected):
    assert devices.parse_size(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("", "cannot read"), ("lots", "cannot read"), ("64 GBs", "cannot read"), ("-8GB", "cannot read"),
    ("GB", "cannot read"), ("1e", "cannot read"), ("inf", "cannot read"), ("nan", "cannot read"),
    ("0GB", "more than zero"), ("1e-30", "more than zero"),
    # A number that reads but no machine has: too large, never "cannot read" ("1e30" was, "999999999TB" was not).
    ("1e30", "more than any machine has"), ("1e30GB", "more than any machine has"),
    ("999999999TB", "more than any machine has"), ("5PB", "more than any machine has"),
    ("1e400", "more than any machine has"), ("9" * 400 + "GB", "more than any machine has"),
])
def test_parse_size_refuses(text, why):
    with pytest.raises(devices.InvalidSizeError, match=why):
        devices.parse_size(text)


def test_parse_size_error_is_a_lookup_error():
    # machines_from_args turns DeviceLookupError into a usage error; bad sizes must take that path too.
    assert issubclass(devices.InvalidSizeError, devices.DeviceLookupError)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("2 x RTX 4090", (2, "RTX 4090")), ("2x RTX 4090", (2, "RTX 4090")), ("8×H200", (8, "H200")),
     ("RTX 4090", (1, "RTX 4090")), ("4 * A100 80GB", (4, "A100 80GB"))],
)
def test_parse_gpu_spec(spec, expected):
    assert devices.parse_gpu_spec(spec) == expected


def test_hypothetical_machine_two_4090s(catalog):
    machine = devices.hypothetical_machine(["2 x RTX 4090"], 64 * GIB, catalog=catalog)
    assert machine.origin == "hypothetical" and machine.is_hypothetical
    assert len(machine.gpus) == 2 and [g.index for g in machine.gpus] == [0, 1]
    gpu = machine.gpus[1]
    assert gpu.name == "NVIDIA GeForce RTX 4090" and gpu.vendor == "nvidia"
    assert gpu.vram_total_bytes == 24 * GIB
    assert gpu.memory_bandwidth_bytes_per_s == 1008e9
    assert gpu.sources["vram_total_bytes"] == "spec table"
    assert gpu.sources["memory_bandwidth_bytes_per_s"] == "spec table"
    assert machine.memory.total_bytes == 64 * GIB and machine.memory.sources["total_bytes"] == "user"
    assert machine.label == "2× NVIDIA GeForce RTX 4090 + 64 GiB RAM"
    # From 1 TiB on, the label says TiB as the RAM bar and every size beside it do ("2 TiB", not "2048 GiB").
    node = devices.hypothetical_machine(["8 x H200"], 2048 * GIB, catalog=catalog)
    assert node.label == "8× NVIDIA H200 SXM + 2 TiB RAM"
    # The label's size is written as every size beside it (units.bytes_text), whatever the amount.
    from rigcheck import units

    for ram in (64 * GIB, int(95.5 * GIB), 1000 * GIB, 1536 * GIB, 3 * 1024 * GIB):
        machine = devices.hypothetical_machine(["RTX 4090"], ram, catalog=catalog)
        assert machine.label == f"NVIDIA GeForce RTX 4090 + {units.bytes_text(ram)} RAM", machine.label


def test_hypothetical_machine_mixed_gpus(catalog):
    machine = devices.hypothetical_machine(["RTX 5090", "RTX 3090"], 128 * GIB, catalog=catalog)
    assert [g.name for g in machine.gpus] == ["NVIDIA GeForce RTX 5090", "NVIDIA GeForce RTX 3090"]
    assert sum(g.vram_total_bytes for g in machine.gpus) == 56 * GIB


def test_hypothetical_unified_memory_machine_takes_device_memory(catalog):
    machine = devices.hypothetical_machine(["M4 Max 40c"], None, catalog=catalog)
    assert machine.memory.total_bytes == 128 * GIB
    assert machine.memory.sources["total_bytes"] == "spec table"
    assert machine.gpus[0].unified_memory and machine.gpus[0].vram_total_bytes == 128 * GIB
    smaller = devices.hypothetical_machine(["M4 Max 40c"], 64 * GIB, catalog=catalog)
    assert smaller.memory.total_bytes == 64 * GIB and smaller.memory.sources["total_bytes"] == "user"


def test_hypothetical_discrete_without_ram_offloads_nothing(catalog):
    machine = devices.hypothetical_machine(["8 x H200"], None, catalog=catalog)
    assert len(machine.gpus) == 8
    assert machine.memory.total_bytes == 0
    assert "total_bytes" in machine.memory.unavailable


@pytest.mark.parametrize(
    ("specs", "ram", "message"),
    [
        (["RTX 9999"], None, "unknown GPU"),
        (["A100"], None, "ambiguous"),
        (["2 x M2 Ultra 76c"], None, "unified memory"),
        (["M2 Ultra 76c", "RTX 4090"], None, "unified memory"),
        (["M5"], None, "give it with --ram"),  # no source states its memory
        (["0 x RTX 4090"], None, "between 1 and 256"),
        ([], None, "describe the machine"),
    ],
)
def test_hypothetical_machine_refuses(catalog, specs, ram, message):
    with pytest.raises(devices.DeviceLookupError, match=message):
        devices.hypothetical_machine(specs, ram, catalog=catalog)
