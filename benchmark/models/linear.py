r"""Closed-form baselines: ``train-mean`` and ``linear`` (ridge regression), fitted without gradients.

``train-mean`` predicts the training split's mean output field for every sample: the best constant
prediction under squared error, the floor below which a model has learned nothing about its input.
For label targets it is the constant prediction of the training labels' frequencies: the logits
``log p_k`` of the class prior for classification (its top-1 is the majority class), the log-odds
``log(p / (1 - p))`` of each label's (or pixel's) positive rate for multi-label and pixel-wise
binary targets (rates clipped to [1e-6, 1 - 1e-6]).

``linear`` is ridge regression from the flattened (normalised) input to the flattened (normalised)
output (classification: to the one-hot class indicators, whose fitted scores serve as logits), with
an intercept:

.. math::  \hat y = \bar y + (x - \bar x) W,\qquad
           W = \arg\min_W \|(X - \bar x) W - (Y - \bar y)\|_F^2 + \lambda \|W\|_F^2
             = V \operatorname{diag}\!\big(\tfrac{s_i}{s_i^2 + \lambda}\big) U^\top (Y - \bar y),

with :math:`X - \bar x = U \operatorname{diag}(s) V^\top` (thin SVD, rank :math:`r \le n`). ``W`` is
kept factored, :math:`A = V` (``D_in x r``) and :math:`B` (``r x D_out``), so memory is
``r (D_in + D_out)`` rather than ``D_in D_out`` (a 128x128 field maps to a 128x128 field with
``r <= n_train``). The SVD comes from the ``n x n`` Gram matrix (float64 eigendecomposition) when
``n < D_in``, from ``X^T X`` otherwise. :math:`\lambda` is chosen from ``s_max^2 * 10^{-k}``,
``k = 0..LAMBDA_DECADES``, by the task's main metric on the validation split (de-normalised, as
every score), never on test. Ridge in normalised space equals ridge on raw values with a
per-channel reweighted penalty; the choice of lambda on validation absorbs the scale.
Reference: Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, §3.4.1.
"""

from __future__ import annotations

import torch
from torch import nn

LAMBDA_DECADES = 12


class TrainMeanModel(nn.Module):
    """``y_hat = mean of the training targets`` (normalised), whatever the input.

    With ``variable_grid`` (a task whose samples come on grids of different sizes, the output on the
    input's grid) no field fits every sample: the prediction is each channel's mean over the training
    targets and their grid points, spread over the input's grid.
    """

    def __init__(self, output_shape: tuple[int, ...], kind: str = "dense-regression", variable_grid: bool = False):
        super().__init__()
        self.kind, self.variable_grid = kind, variable_grid
        shape = (output_shape[0], *(1 for _ in output_shape[1:])) if variable_grid else output_shape
        self.register_buffer("mean", torch.zeros(shape))

    @torch.no_grad()
    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        if self.kind == "classification":
            freq = torch.bincount(y.long(), minlength=self.mean.shape[0]).double() / len(y)
            value = freq.clamp_min(1e-12).log()
        elif self.variable_grid:
            value = y.double().transpose(0, 1).reshape(len(self.mean), -1).mean(dim=1).reshape(self.mean.shape)
        elif self.kind == "dense-regression":
            value = y.double().mean(dim=0)
        else:  # multi-label, pixel-binary: the log-odds of each entry's positive rate
            p = y.double().mean(dim=0).clamp(1e-6, 1 - 1e-6)
            value = (p / (1 - p)).log()
        self.mean.copy_(value.to(self.mean.dtype))

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = batch["x"]
        if self.variable_grid:
            return {"y": self.mean.expand(len(x), len(self.mean), *x.shape[2:])}
        return {"y": self.mean.expand(len(x), *self.mean.shape)}


class RidgeModel(nn.Module):
    """Ridge regression of flattened fields (module docstring); :meth:`fit`, then :meth:`set_lambda`."""

    def __init__(self, input_shape: tuple[int, ...], output_shape: tuple[int, ...], kind: str = "dense-regression"):
        super().__init__()
        self.output_shape, self.kind = tuple(output_shape), kind
        d_in, d_out = int(torch.tensor(input_shape).prod()), int(torch.tensor(output_shape).prod())
        for name, shape in (("x_mean", (d_in,)), ("y_mean", (d_out,)), ("A", (d_in, 0)), ("B", (0, d_out))):
            self.register_buffer(name, torch.zeros(shape))
        self.s = torch.zeros(0, dtype=torch.float64)
        self.uty = torch.zeros(0, d_out, dtype=torch.float64)
        self.lam = float("nan")

    @torch.no_grad()
    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Factor the centred training inputs; the weights follow per lambda in :meth:`set_lambda`."""
        if self.kind == "classification":
            y = torch.nn.functional.one_hot(y.long(), self.output_shape[0])
        X, Y = x.reshape(len(x), -1).double(), y.reshape(len(y), -1).double()
        xm, ym = X.mean(dim=0), Y.mean(dim=0)
        X, Y = X - xm, Y - ym
        if X.shape[0] <= X.shape[1]:  # Gram: X X^T = U S^2 U^T, V = X^T U / s
            evals, U = torch.linalg.eigh(X @ X.T)
            keep = evals > evals.max().clamp_min(1e-300) * 1e-12
            s, U = evals[keep].sqrt(), U[:, keep]
            V = (X.T @ U) / s
        else:  # covariance: X^T X = V S^2 V^T, U = X V / s
            evals, V = torch.linalg.eigh(X.T @ X)
            keep = evals > evals.max().clamp_min(1e-300) * 1e-12
            s, V = evals[keep].sqrt(), V[:, keep]
            U = (X @ V) / s
        self.x_mean, self.y_mean, self.A = xm.float(), ym.float(), V.float()
        self.s, self.uty = s, U.T @ Y
        self.set_lambda(self.lambdas()[0])

    def lambdas(self) -> list[float]:
        """The candidate penalties, largest first: ``s_max^2 * 10^-k`` for k = 0..LAMBDA_DECADES."""
        top = float(self.s.max() ** 2) if len(self.s) else 1.0
        return [top * 10.0 ** -k for k in range(LAMBDA_DECADES + 1)]

    @torch.no_grad()
    def set_lambda(self, lam: float) -> None:
        self.lam = float(lam)
        self.B = ((self.s / (self.s ** 2 + lam))[:, None] * self.uty).float()

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = batch["x"].reshape(len(batch["x"]), -1)
        y = ((x - self.x_mean) @ self.A) @ self.B + self.y_mean
        return {"y": y.reshape(len(y), *self.output_shape)}
