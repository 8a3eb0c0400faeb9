"""Loaded by pytest before any test or notebook is collected.

Kernels that nbval starts inherit this process's environment, so setting KERNEL_ENV here
gives the test run the same kernel environment that `python -m course_utils.notebooks
execute` used when the stored outputs were made.
"""
import os

from course_utils.notebooks import KERNEL_ENV

os.environ.update(KERNEL_ENV)
