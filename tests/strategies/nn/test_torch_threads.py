"""Torch's global settings pinned for a run and restored after."""

from __future__ import annotations

import torch

from strategies.nn.seeding import seed_rows
from strategies.nn.torch_threads import pin_torch, restore_torch


def test_pin_and_restore_threads_and_algorithms():
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    before = pin_torch()
    assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled() == det
    inner = pin_torch(deterministic=True)  # e.g. a seeded plugin beside a built-in strategy
    assert torch.are_deterministic_algorithms_enabled()
    restore_torch(inner)
    assert torch.are_deterministic_algorithms_enabled() == det and torch.get_num_threads() == 1
    restore_torch(before)
    assert torch.get_num_threads() == threads


def test_a_lone_seed_gets_a_shadow_row():
    assert seed_rows((7,)) == (7, 7) and seed_rows((0, 1, 2)) == (0, 1, 2)
