"""Campaigns: many problems and devices under one budget, each problem a resumable optimization run."""
