"""The model zoo of the seed papers, in plain torch, and a small training helper.

>>> from lstheory.models import build_model, count_parameters
>>> net = build_model("resnet56-noshort", input_shape=(3, 32, 32))
>>> count_parameters(build_model("dcnn"))      # Liao & Poggio's 6-layer DCNN at CIFAR size
188810

Models (names in :data:`MODELS`)
--------------------------------
``resnet20/56/110`` and ``-noshort``   CIFAR ResNets of Li et al. (1×1-conv shortcuts, "B").
``wrn56-{2,4,8}`` and ``-noshort``     Wide-ResNet-56-k (every width × k).
``vgg9``                               VGG-9 (seven conv–BN–ReLU, three max-pools, FC–BN, FC).
``dcnn``                               Liao & Poggio's DCNN: five 3×3 stride-2 convs, BN without
                                       shift/scale; paper layer ℓ is ``dcnn_layer_name(ℓ)``.
``mlp``                                fully connected nets on flattened inputs.
``resnet``                             any depth 6n+2; ``shortcut=``, ``width=``,
                                       ``shortcut_type=``.

Every model takes ``input_shape=`` and ``n_classes=`` (so the zoo runs on 8×8 digits as well as
CIFAR-10) and ``seed=``; :func:`save_checkpoint`/:func:`load_checkpoint` rebuild models by name.
:func:`model_from_factory` builds your own model from ``MODULE:FACTORY`` (the current directory is
searched first) and :func:`load_state_dict` loads a plain ``state_dict`` into it, checking keys,
shapes and finiteness. :func:`train` trains with SGD/Adam, batch size, weight decay and a
schedule, saving checkpoints.
"""

from ._dcnn import DCNN, DCNN_WIDTHS, dcnn_layer_name
from ._mlp import MLPNet
from ._registry import (
    MODELS,
    Checkpoint,
    build_model,
    check_state_dict,
    count_parameters,
    import_object,
    load_checkpoint,
    load_state_dict,
    model_from_factory,
    model_spec,
    parse_model_args,
    read_state_dict,
    save_checkpoint,
)
from ._resnet import BasicBlock, ResNet
from ._train import TRAIN_PRESETS, EpochRecord, TrainOptions, TrainResult, evaluate, train
from ._vgg import VGG9, VGG9_CONFIG

__all__ = [
    "BasicBlock",
    "Checkpoint",
    "DCNN",
    "DCNN_WIDTHS",
    "EpochRecord",
    "MLPNet",
    "MODELS",
    "ResNet",
    "TRAIN_PRESETS",
    "TrainOptions",
    "TrainResult",
    "VGG9",
    "VGG9_CONFIG",
    "build_model",
    "check_state_dict",
    "count_parameters",
    "dcnn_layer_name",
    "evaluate",
    "import_object",
    "load_checkpoint",
    "load_state_dict",
    "model_from_factory",
    "model_spec",
    "parse_model_args",
    "read_state_dict",
    "save_checkpoint",
    "train",
]
