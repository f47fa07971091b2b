"""Interface addressing (issue 21): each device of a fleet on its own address of a real interface, so a
VMS on another machine adds them one by one. The addresses a fleet needs and does not have are added
with `ip addr add <a>/32 dev <interface>` when the process may (root), and removed when it stops;
otherwise the fleet stops and prints the exact commands to run."""

from __future__ import annotations

import os
import shutil
import subprocess

import ifaddr


def present(interface: str) -> set[str]:
    """The IPv4 addresses the interface has now (empty when there is no such interface)."""
    for adapter in ifaddr.get_adapters():
        if adapter.nice_name == interface or adapter.name == interface:
            return {ip.ip for ip in adapter.ips if isinstance(ip.ip, str)}
    return set()


def interface_exists(interface: str) -> bool:
    return any(a.nice_name == interface or a.name == interface for a in ifaddr.get_adapters())


def add_commands(addresses: list[str], interface: str) -> list[str]:
    return [f"ip addr add {a}/32 dev {interface}" for a in addresses]


def remove_commands(addresses: list[str], interface: str) -> list[str]:
    return [f"ip addr del {a}/32 dev {interface}" for a in addresses]


def add(addresses: list[str], interface: str) -> tuple[list[str], str | None]:
    """(the addresses added, why the rest could not be: None when all were)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return [], "adding addresses needs root and iproute2's ip"
    added: list[str] = []
    for command in add_commands(addresses, interface):
        done = subprocess.run(command.split(), capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            return added, done.stderr.strip() or f"{command} failed"
        added.append(command.split()[3].removesuffix("/32"))
    return added, None


def remove(addresses: list[str], interface: str) -> None:
    for command in remove_commands(addresses, interface):
        subprocess.run(command.split(), capture_output=True, timeout=10)
