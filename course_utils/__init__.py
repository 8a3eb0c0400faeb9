"""course_utils: the helper package of the course "Faster Deep Learning".

Modules, one concept each:
    course    where the course lives and its notebooks, in order
    env       Colab or not, CPU and GPU, which precisions are fast
    data      MNIST from the shipped IDX files, train/validation split, mini-batches
    bench     honest timing (median and spread, GPU-synchronized) and side-by-side comparison
    checks    assertions with useful messages: check_close, rel_error
    plots     the course plot style and shared figures
    notebooks the notebook tool: stamp the setup cell, execute notebooks in place
"""
from course_utils.notebook_setup import setup_notebook

__version__ = "0.1.0"
__all__ = ["setup_notebook", "__version__"]
