"""Smooth random fields, a fold-free warp and noisy blobs: what makes generated shapes look natural.

Everything works in metres (EPSG:4546) and is deterministic for a numpy Generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SmoothField:
    """A sum of plane waves: f(x, y) = Σ a_i sin(k_i · p + φ_i). Values lie in [-Σa, Σa]."""

    kx: Array
    ky: Array
    phase: Array
    amplitude: Array

    @classmethod
    def random(
        cls, rng: np.random.Generator, wavelengths: list[float], waves_per_octave: int = 3
    ) -> SmoothField:
        ks, phases, amps = [], [], []
        for wavelength in wavelengths:
            for _ in range(waves_per_octave):
                angle = rng.uniform(0, np.pi)
                k = 2 * np.pi / (wavelength * rng.uniform(0.8, 1.25))
                ks.append((k * np.cos(angle), k * np.sin(angle)))
                phases.append(rng.uniform(0, 2 * np.pi))
                amps.append(wavelength / sum(wavelengths) / waves_per_octave)
        kxy = np.array(ks)
        return cls(kxy[:, 0], kxy[:, 1], np.array(phases), np.array(amps))

    def __call__(self, x: Array, y: Array) -> Array:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.zeros(np.broadcast(x, y).shape)
        for kx, ky, ph, a in zip(self.kx, self.ky, self.phase, self.amplitude, strict=True):
            out += a * np.sin(kx * x + ky * y + ph)
        return out

    @property
    def lipschitz(self) -> float:
        """An upper bound of the gradient's length."""
        return float(np.sum(self.amplitude * np.hypot(self.kx, self.ky)))


@dataclass(frozen=True)
class Warp:
    """p → p + d(p) with d smooth and Lipschitz < 1: a bijection, so it never folds a coverage.

    Applied to shared, noded linework, it turns straight Voronoi edges into natural boundaries
    while adjacent polygons keep exactly the same edges.
    """

    dx: SmoothField
    dy: SmoothField
    scale: float  # metres of displacement per unit of field

    @classmethod
    def random(cls, rng: np.random.Generator, amplitude: float, wavelengths: list[float]) -> Warp:
        dx = SmoothField.random(rng, wavelengths)
        dy = SmoothField.random(rng, wavelengths)
        warp = cls(dx, dy, amplitude)
        # keep the displacement's Lipschitz constant safely below one (no folds)
        bound = amplitude * (dx.lipschitz + dy.lipschitz)
        if bound >= 0.9:
            warp = cls(dx, dy, amplitude * 0.9 / bound)
        return warp

    def coords(self, xy: Array) -> Array:
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([x + self.scale * self.dx(x, y), y + self.scale * self.dy(x, y)])

    def inverse_coords(self, xy: Array, iterations: int = 40) -> Array:
        """Fixed-point inverse: p = q - d(p), converging because d is a contraction."""
        p = xy.copy()
        for _ in range(iterations):
            d = self.coords(p) - p
            p = xy - d
        return p

    def geometry(self, geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, self.coords)


def blob(
    rng: np.random.Generator,
    centre: tuple[float, float],
    radius: float,
    roughness: float = 0.25,
    aspect: float = 1.0,
    rotation: float = 0.0,
    vertices: int = 96,
) -> Polygon:
    """A star-shaped polygon with a smoothly varying radius: lakes, towns, mountain patches."""
    theta = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    r = np.ones_like(theta)
    for harmonic in range(2, 7):
        r += (
            roughness
            / harmonic**0.8
            * rng.uniform(-1, 1)
            * np.cos(harmonic * theta + rng.uniform(0, 2 * np.pi))
        )
    r = np.clip(r, 0.25, None) * radius
    x = r * np.cos(theta) * aspect
    y = r * np.sin(theta)
    c, s = np.cos(rotation), np.sin(rotation)
    xs = centre[0] + c * x - s * y
    ys = centre[1] + s * x + c * y
    poly = Polygon(np.column_stack([xs, ys]))
    return poly if poly.is_valid else shapely.make_valid(poly).buffer(0)


def scale_about(
    geom: shapely.Geometry, factor: float, origin: tuple[float, float]
) -> shapely.Geometry:
    ox, oy = origin
    return shapely.transform(geom, lambda xy: (xy - (ox, oy)) * factor + (ox, oy))
