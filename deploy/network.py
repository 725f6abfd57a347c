"""Hosts on one machine: a Linux network namespace per host, joined by a bridge.

Each host gets its own network stack (its own loopback, one interface ``eth0`` with one
address), its own host name (a UTS namespace per service process) and an ``/etc/hosts``
that names every host, as a container network's DNS does. The file system stays shared,
which is how the artifacts volume of a real deployment (NFS, EFS, a ReadWriteMany claim)
looks to the processes.

Everything created carries the network's ``prefix`` in its name, and only addresses from
its own ``subnet`` are assigned, so :meth:`Network.destroy` removes exactly what
:meth:`Network.create` made, also after a crash. Needs root (``ip netns``).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

#: ``ip netns exec`` bind-mounts the files of ``/etc/netns/<namespace>/`` over ``/etc/``.
NETNS_ETC = Path("/etc/netns")


@dataclass(frozen=True)
class Host:
    """One machine of the deployment: its name, address, and the names it also answers to
    (the compose services it runs, so the same URLs work in both deployments)."""

    name: str
    address: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Network:
    """A bridge and one namespace per host; the bridge's own address is the machine's."""

    prefix: str
    subnet: ipaddress.IPv4Network
    host_names: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        if len(self.prefix) > 6 or not self.prefix.isalnum():
            raise ValueError(f"network prefix {self.prefix!r}: 1-6 letters or digits")
        if len(self.host_names) > self.subnet.num_addresses - 3:
            raise ValueError(f"subnet {self.subnet} is too small for {len(self.host_names)} hosts")

    @property
    def bridge(self) -> str:
        return f"{self.prefix}br0"

    @property
    def machine_address(self) -> str:
        """The bridge's address: how the machine itself reaches every host."""
        return str(self.subnet.network_address + 1)

    @property
    def hosts(self) -> list[Host]:
        return [
            Host(name, str(self.subnet.network_address + 2 + index), self.aliases.get(name, ()))
            for index, name in enumerate(self.host_names)
        ]

    def host(self, name: str) -> Host:
        return next(host for host in self.hosts if host.name == name)

    def namespace(self, host: Host) -> str:
        return f"{self.prefix}-{host.name}"

    def hosts_file(self) -> str:
        lines = ["127.0.0.1 localhost"]
        lines += [" ".join([host.address, host.name, *host.aliases]) for host in self.hosts]
        return "\n".join(lines) + "\n"

    # --- lifecycle ---------------------------------------------------------------------
    def create(self) -> None:
        """Bridge, namespaces, veth pairs and hosts files; leftovers of a crash go first."""
        self.destroy()
        self._refuse_overlapping_routes()
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip(
                "addr", "add", f"{self.machine_address}/{self.subnet.prefixlen}", "dev", self.bridge
            )
            _ip("link", "set", self.bridge, "up")
            for index, host in enumerate(self.hosts):
                namespace, veth = self.namespace(host), f"{self.prefix}v{index}"
                _ip("netns", "add", namespace)
                _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
                _ip("link", "set", veth, "master", self.bridge, "up")
                _ip("-n", namespace, "addr", "add", f"{host.address}/{self.subnet.prefixlen}",
                    "dev", "eth0")  # fmt: skip
                _ip("-n", namespace, "link", "set", "eth0", "up")
                _ip("-n", namespace, "link", "set", "lo", "up")
                etc = NETNS_ETC / namespace
                etc.mkdir(parents=True, exist_ok=True)
                (etc / "hosts").write_text(self.hosts_file())
        except BaseException:
            self.destroy()
            raise

    def destroy(self, grace_s: float = 10) -> None:
        """Stop every process in this network's namespaces, then remove the namespaces,
        links and hosts files: every one named with the prefix, whatever placement made it."""
        namespaces = sorted(n for n in existing_namespaces() if n.startswith(f"{self.prefix}-"))
        for namespace in namespaces:
            self.kill_processes(namespace, grace_s)
        for namespace in namespaces:
            _ip("netns", "delete", namespace)
        for link in _links_named(self.prefix):
            # a veth end may already be gone with its namespace
            subprocess.run(["ip", "link", "delete", link], capture_output=True)
        for etc in NETNS_ETC.glob(f"{self.prefix}-*"):
            with suppress(FileNotFoundError):
                (etc / "hosts").unlink()
            with suppress(OSError):
                etc.rmdir()

    def kill_processes(self, namespace: str, grace_s: float = 10) -> list[int]:
        """SIGTERM every process of ``namespace``, SIGKILL what is left after ``grace_s``;
        ``grace_s=0`` kills them at once, as a machine that is lost."""
        killed = namespace_pids(namespace)
        _signal_all(killed, signal.SIGTERM if grace_s > 0 else signal.SIGKILL)
        deadline = time.monotonic() + grace_s
        while (alive := namespace_pids(namespace)) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_all(alive, signal.SIGKILL)
        return killed

    def command_in(self, host: Host, command: Sequence[str]) -> list[str]:
        """``command`` as run on ``host``: in its namespace, under its own host name."""
        return [
            "ip", "netns", "exec", self.namespace(host),
            "unshare", "--uts", "--",
            "sh", "-c", 'hostname "$0" && exec "$@"', host.name, *command,
        ]  # fmt: skip

    def _refuse_overlapping_routes(self) -> None:
        routes = subprocess.run(
            ["ip", "-4", "-o", "route", "show"], capture_output=True, text=True, check=True
        ).stdout
        for line in routes.splitlines():
            destination = line.split()[0]
            if destination == "default":
                continue
            if ipaddress.ip_network(destination, strict=False).overlaps(self.subnet):
                raise RuntimeError(
                    f"subnet {self.subnet} overlaps the machine's route {line.strip()!r}; "
                    "choose another subnet for the deployment's hosts"
                )


def existing_namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def namespace_pids(namespace: str) -> list[int]:
    if namespace not in existing_namespaces():
        return []
    listed = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    return [int(pid) for pid in listed.stdout.split() if int(pid) != os.getpid()]


def _signal_all(pids: Iterable[int], signum: signal.Signals) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signum)


def _links_named(prefix: str) -> list[str]:
    """The machine's links whose names start with ``prefix``: the bridge and veth ends."""
    listed = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in listed.splitlines()]
    # The bridge last: a veth end is deleted with its peer, the bridge then has no ports.
    return sorted((n for n in names if n.startswith(prefix)), key=lambda n: n.endswith("br0"))


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
