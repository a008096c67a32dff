"""Supervised fine-tuning on spar3d data: SPAR-mix with TRL (+ peft), then SPAR-Bench.

Needs the ``train`` extra (torch, transformers, trl, peft, datasets); nothing here is imported
by the rest of spar3d.
"""
