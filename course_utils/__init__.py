"""course_utils: the helper package of the course "Faster Deep Learning".

Modules, one concept each:
    course    where the course lives and its notebooks, in order
    env       Colab or not, CPU and GPU, which precisions are fast
    data      MNIST from the shipped IDX files, train/validation split, mini-batches
    bench     honest timing (median and spread, GPU-synchronized) and side-by-side comparison
    checks    assertions with useful messages: check_close, rel_error
    plots     the course plot style and shared figures
    explore   ipywidgets explorers that redraw a figure
    progress  progress bars that honour TQDM_DISABLE
    memo      hash tables (chaining, open addressing) and memoize
    batching  activation memory, throughput against batch size
    gradcheck numerical gradients and gradient checks
    nn        NumPy layers: Linear, ReLU, Sequential, BatchNorm1d/2d, Dropout, softmax_cross_entropy
    metrics   accuracy, expected calibration error, reliability curves
    optim     SGD, AdaGrad, RMSprop, Adam, AdamW in NumPy, equal to torch.optim
    schedules learning-rate schedules and gradient clipping
    pipelines input-pipeline helpers: slow datasets, throughput, a loader schedule simulator
    accumulation  gradient accumulation and the activation memory it saves
    distributed   data- and pipeline-parallel training with torch.distributed, launched from a notebook
    pipeline_schedule  GPipe and 1F1B schedules and their bubble
    ema       exponential moving average of weights
    amp       number formats, loss scaling from scratch, the mixed-precision benchmark
    distill   knowledge distillation loss and gradient
    quantize  int8 affine quantization
    search    grid and random search, k-fold cross-validation
    editions  the student edition (solutions stubbed) and the static HTML edition
    notebooks the notebook tool: stamp the setup cell, execute notebooks in place
"""
from course_utils.notebook_setup import setup_notebook

__version__ = "0.1.0"
__all__ = ["setup_notebook", "__version__"]
