"""Per-point sums over samples, what every evaluation route returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Totals"]


@dataclass
class Totals:
    """Per-point sums over samples: loss, loss², correct predictions, and the sample count."""

    loss: np.ndarray
    loss_sq: np.ndarray
    correct: np.ndarray
    n: int

    @classmethod
    def zeros(cls, k: int) -> Totals:
        return cls(np.zeros(k), np.zeros(k), np.zeros(k), 0)

    def mean_loss(self) -> np.ndarray:
        return self.loss / self.n

    def accuracy(self) -> np.ndarray:
        return self.correct / self.n

    def loss_se(self, population: int) -> np.ndarray:
        """Standard error of the mean loss of a simple random sample of ``n`` out of
        ``population`` (finite-population correction; 0 when the sample is the population)."""
        n = self.n
        if n >= population or n < 2:
            return np.zeros_like(self.loss)
        var = np.maximum(self.loss_sq / n - (self.loss / n) ** 2, 0.0) * n / (n - 1)
        return np.sqrt(var / n * (1 - n / population))

    def acc_se(self, population: int) -> np.ndarray:
        n = self.n
        if n >= population or n < 2:
            return np.zeros_like(self.correct)
        p = self.correct / n
        return np.sqrt(p * (1 - p) / (n - 1) * (1 - n / population))
