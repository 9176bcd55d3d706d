#!/usr/bin/env python
"""The `lstmkit` command with RMSprop computed as Keras 3 and TensorFlow compute it. An experiment.

    OUT=runs/exp-krms LSTMKIT=".venv/bin/python bench/keras_rmsprop_lstmkit.py" SEEDS="0 1 2" bash bench/sentiment_table.sh lstm

torch.optim.RMSprop (lstmkit's `--optimizer rmsprop`, like Keras 2.2) steps lr * g / (sqrt(v) + eps);
Keras 3 and TF's ApplyRMSProp step lr * g / sqrt(v + eps). With eps 1e-7 the second damps every
weight whose gradients are below ~3e-4, as rare words' embedding rows are: a word seen once after a
long absence gets a step of ~3 x lr whatever its gradient under the first, a step in proportion to its
gradient under the second. Does that change the lecture recipe's test accuracy? (RESULTS: no.)
"""

import sys

import torch

import lstmkit.training.recipe as recipe
from lstmkit.cli import main
from lstmkit.training import optimizers


class KerasRMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr: float, rho: float = 0.9, eps: float = 1e-7):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            squares = [self.state[p].setdefault("square_avg", torch.zeros_like(p)) for p in params]
            torch._foreach_mul_(squares, group["rho"])
            torch._foreach_addcmul_(squares, grads, grads, value=1 - group["rho"])
            denominators = torch._foreach_add(squares, group["eps"])
            torch._foreach_sqrt_(denominators)
            torch._foreach_addcdiv_(params, grads, denominators, value=-group["lr"])


def make_optimizer(name, parameters, lr, *, adam_eps=1e-8):
    if name == "rmsprop":
        return KerasRMSprop(parameters, lr)
    return optimizers.make_optimizer(name, parameters, lr, adam_eps=adam_eps)


if __name__ == "__main__":
    recipe.make_optimizer = make_optimizer  # where every task makes its optimizer
    sys.exit(main())
