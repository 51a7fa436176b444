"""Pharmacokinetics: predicted ketamine and esketamine concentrations by route, for one typical
patient and for virtual populations, solved exactly.

The models are cited data (``data/pk/*.toml``, :mod:`~ketacare.clinical.pk.catalogue`); a model
and a regimen become a linear system (:mod:`~ketacare.clinical.pk.system`) solved exactly on a
time grid (:mod:`~ketacare.clinical.pk.solver`), for many subjects at once
(:mod:`~ketacare.clinical.pk.population`). :mod:`~ketacare.clinical.pk.prediction` is the front
door. ``docs/pharmacokinetics.md`` explains the models, routes, assumptions and cautions.

Errors::

    InvalidModel     (ValueError)    a model file breaks the catalogue's rules
    UnknownModel     (UnknownEntry)  no model has this id; UnknownEntry is a KeyError
    InvalidRegimen   (ValueError)    a request the model cannot take; .field names the input
"""

from ketacare.clinical.pk.catalogue import InvalidModel, Model, UnknownModel, get, models
from ketacare.clinical.pk.population import Population, simulate_population, variability
from ketacare.clinical.pk.prediction import (
    Band,
    PopulationPrediction,
    Prediction,
    Window,
    dissociative_band,
    model_for_route,
    predict,
    predict_population,
    window,
)
from ketacare.clinical.pk.solver import Solution, solve
from ketacare.clinical.pk.system import InvalidRegimen, Regimen, System, build, individual

__all__ = [
    "Band",
    "InvalidModel",
    "InvalidRegimen",
    "Model",
    "Population",
    "PopulationPrediction",
    "Prediction",
    "Regimen",
    "Solution",
    "System",
    "UnknownModel",
    "Window",
    "build",
    "dissociative_band",
    "get",
    "individual",
    "model_for_route",
    "models",
    "predict",
    "predict_population",
    "simulate_population",
    "solve",
    "variability",
    "window",
]
