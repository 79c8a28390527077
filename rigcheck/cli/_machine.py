"""The MACHINE arguments shared by fit, plan, cost, report and gui: this machine, a profile, or a what-if."""

from __future__ import annotations

import argparse

from rigcheck.cli import UsageError
from rigcheck.probe.types import Machine


def add_machine_args(parser: argparse.ArgumentParser, *, multiple_profiles: bool = False) -> None:
    group = parser.add_argument_group("machine (default: this machine, probed)")
    group.add_argument(
        "--machine",
        metavar="FILE",
        action="append" if multiple_profiles else "store",
        help="a machine profile as written by `rigcheck probe --json`",
    )
    group.add_argument(
        "--gpu",
        metavar='"[N x ]NAME"',
        action="append",
        default=[],
        help='a GPU of a hypothetical machine, e.g. "2 x RTX 4090" (repeatable)',
    )
    group.add_argument("--ram", metavar="SIZE", help="RAM of a hypothetical machine, e.g. 64GB")


def machines_from_args(args: argparse.Namespace, catalog=None) -> list[Machine]:
    """The machines the arguments describe: profiles, a hypothetical machine, or this one probed.

    Raises UsageError for a bad profile file, an unknown or ambiguous GPU name, or a bad size.
    """
    from rigcheck.catalog import devices
    from rigcheck.probe import profile

    profiles = args.machine or []
    if isinstance(profiles, str):
        profiles = [profiles]
    if profiles and (args.gpu or args.ram):
        raise UsageError("give either --machine FILE or --gpu/--ram, not both")
    if profiles:
        try:
            return [profile.load_profile(path) for path in profiles]
        except profile.ProfileError as exc:
            raise UsageError(str(exc)) from None
    if args.gpu or args.ram:
        try:
            ram_bytes = devices.parse_size(args.ram) if args.ram else None
            return [devices.hypothetical_machine(args.gpu, ram_bytes, catalog=catalog)]
        except devices.DeviceLookupError as exc:
            raise UsageError(str(exc)) from None
    from rigcheck.probe.detect import probe_machine

    return [probe_machine()]


def machine_notes(machine: Machine) -> list[str]:
    """What a listing's header must say a what-if machine assumes: ``["RAM not given (--ram): nothing offloaded to
    RAM"]`` for GPUs described without RAM; [] otherwise."""
    if machine.is_hypothetical and not machine.memory.total_bytes and machine.gpus:
        return ["RAM not given (--ram): nothing offloaded to RAM"]
    return []


def machine_from_args(args: argparse.Namespace, catalog=None) -> Machine:
    return machines_from_args(args, catalog)[0]
