"""Built-in datasets, custom data checks and feature maps (app/engine/datasets.py)."""

import math

import numpy as np
import pytest

from app.engine.datasets import (
    BUILTIN,
    FEATURES,
    TASKS,
    Dataset,
    custom_dataset,
    feature_transform,
    make_dataset,
    validate_features,
)
from app.engine.errors import EngineError

SHAPES = {
    "circle": ("classification", 2, 1),
    "xor": ("classification", 2, 1),
    "gauss": ("classification", 2, 1),
    "spiral": ("classification", 2, 1),
    "moons": ("classification", 2, 1),
    "plane": ("regression", 2, 1),
    "multi_gauss": ("regression", 2, 1),
    "sine": ("regression", 1, 1),
    "blobs": ("multiclass", 2, 3),
    "network_n": ("regression", 3, 2),
}
CLASSIFICATION = [name for name, (task, _, _) in SHAPES.items() if task == "classification"]


def _all(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([ds.x_train, ds.x_test]), np.vstack([ds.y_train, ds.y_test])


def test_builtin_lists_every_dataset_with_its_task_and_sizes():
    assert {name: (i.task, i.inputs, i.outputs) for name, i in BUILTIN.items()} == SHAPES
    assert all(info.name == name and info.description for name, info in BUILTIN.items())
    assert all(info.task in TASKS for info in BUILTIN.values())


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("noise", [0.0, 0.5, 1.0])
def test_builtin_has_documented_shape_task_and_finite_float64_values(name, noise):
    task, inputs, outputs = SHAPES[name]
    ds = make_dataset(name, samples=301, noise=noise, seed=3)
    assert (ds.name, ds.task, ds.inputs, ds.outputs) == (name, task, inputs, outputs)
    assert ds.x_train.shape == (150, inputs) and ds.x_test.shape == (151, inputs)
    assert ds.y_train.shape == (150, outputs) and ds.y_test.shape == (151, outputs)
    for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        assert a.dtype == np.float64 and np.isfinite(a).all()


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_builtin_coordinates_lie_roughly_in_minus_six_six_without_noise(name):
    x, _ = _all(make_dataset(name, samples=2000, seed=1))
    assert np.abs(x).max() <= 6.5
    assert np.abs(x).max() >= 3.0  # uses the plane, not a tiny corner of it


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_labels_are_exactly_zero_or_one_with_both_classes(name):
    _, y = _all(make_dataset(name, samples=400, noise=0.3, seed=2))
    assert set(np.unique(y)) == {0.0, 1.0}
    assert abs(y.mean() - 0.5) < 0.1


@pytest.mark.parametrize("classes", [3, 5, 10])
def test_blobs_has_one_hot_rows_for_every_class(classes):
    ds = make_dataset("blobs", samples=200, classes=classes, seed=4)
    assert ds.outputs == classes and ds.task == "multiclass"
    _, y = _all(ds)
    assert np.isin(y, (0.0, 1.0)).all() and (y.sum(axis=1) == 1.0).all()
    assert (y.sum(axis=0) > 0).all()


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_same_arguments_give_bit_identical_arrays(name):
    a = make_dataset(name, samples=123, noise=0.2, train_fraction=0.7, seed=9, classes=4)
    b = make_dataset(name, samples=123, noise=0.2, train_fraction=0.7, seed=9, classes=4)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_another_seed_gives_different_arrays(name):
    a, b = make_dataset(name, seed=0), make_dataset(name, seed=1)
    assert not np.array_equal(a.x_train, b.x_train)


@pytest.mark.parametrize(
    ("samples", "fraction", "n_train"), [(500, 0.5, 250), (100, 0.8, 80), (10, 1.0, 10), (7, 0.3, 2), (2, 0.5, 1)]
)
def test_train_fraction_splits_the_shuffled_samples(samples, fraction, n_train):
    ds = make_dataset("circle", samples=samples, train_fraction=fraction)
    assert len(ds.x_train) == len(ds.y_train) == n_train
    assert len(ds.x_test) == len(ds.y_test) == samples - n_train
    assert ds.x_test.shape[1] == 2 and ds.y_test.shape[1] == 1


def test_split_is_a_prefix_of_one_shuffle_independent_of_fraction():
    whole = make_dataset("gauss", samples=50, train_fraction=1.0, seed=5)
    half = make_dataset("gauss", samples=50, train_fraction=0.5, seed=5)
    assert np.array_equal(np.vstack([half.x_train, half.x_test]), whole.x_train)


def test_samples_are_shuffled_not_grouped_by_class():
    y = make_dataset("circle", samples=200, train_fraction=1.0).y_train[:, 0]
    assert 0.3 < y[:100].mean() < 0.7


def test_builtin_arrays_are_read_only():
    ds = make_dataset("xor")
    with pytest.raises(ValueError):
        ds.x_train[0, 0] = 1.0


def test_clean_circle_is_separated_by_radius():
    x, y = _all(make_dataset("circle", samples=1000, seed=7))
    radius = np.hypot(x[:, 0], x[:, 1])
    assert np.array_equal(y[:, 0], (radius < 3.0).astype(float))


def test_clean_xor_label_is_sign_product_with_margin_from_axes():
    x, y = _all(make_dataset("xor", samples=1000, seed=7))
    assert np.array_equal(y[:, 0], (x[:, 0] * x[:, 1] > 0).astype(float))
    assert np.abs(x).min() >= 0.3


def test_noisy_circle_is_no_longer_separated_by_radius():
    x, y = _all(make_dataset("circle", samples=1000, noise=0.5, seed=7))
    radius = np.hypot(x[:, 0], x[:, 1])
    assert not np.array_equal(y[:, 0], (radius < 3.0).astype(float))


def test_clean_gauss_clusters_are_split_by_the_diagonal():
    x, y = _all(make_dataset("gauss", samples=1000, seed=7))
    assert ((x.sum(axis=1) > 0) == (y[:, 0] == 1)).mean() > 0.99


def test_clean_regression_targets_follow_their_formulas():
    x, y = _all(make_dataset("plane", samples=300))
    assert np.allclose(y[:, 0], (x[:, 0] + x[:, 1]) / 12.0)
    assert np.abs(y).max() <= 1.0
    x, y = _all(make_dataset("sine", samples=300))
    assert np.allclose(y[:, 0], np.sin(x[:, 0]))
    _, y = _all(make_dataset("multi_gauss", samples=2000))
    assert np.abs(y).max() <= 1.01 and y.min() < -0.8 and y.max() > 0.8


def test_regression_noise_adds_spread_to_the_target():
    x, y = _all(make_dataset("sine", samples=2000, noise=0.5))
    residual = y[:, 0] - np.sin(x[:, 0])
    assert 0.4 < residual.std() < 0.6


def test_clean_blobs_are_nearest_to_their_own_centre():
    x, y = _all(make_dataset("blobs", samples=600, classes=4, seed=3))
    angle = 2 * np.pi * np.arange(4) / 4
    centres = 4.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    nearest = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == y.argmax(axis=1)).mean() > 0.97


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "nope"}, "dataset.name"),
        ({"name": "custom"}, "dataset.name"),
        ({"samples": 1}, "dataset.samples"),
        ({"samples": 20001}, "dataset.samples"),
        ({"samples": 10.5}, "dataset.samples"),
        ({"samples": True}, "dataset.samples"),
        ({"samples": "100"}, "dataset.samples"),
        ({"noise": -0.1}, "dataset.noise"),
        ({"noise": 1.5}, "dataset.noise"),
        ({"noise": math.nan}, "dataset.noise"),
        ({"noise": math.inf}, "dataset.noise"),
        ({"noise": "0.1"}, "dataset.noise"),
        ({"train_fraction": 0.0}, "dataset.train_fraction"),
        ({"train_fraction": 1.01}, "dataset.train_fraction"),
        ({"train_fraction": math.nan}, "dataset.train_fraction"),
        ({"samples": 4, "train_fraction": 0.1}, "dataset.train_fraction"),
        ({"seed": -1}, "dataset.seed"),
        ({"seed": 1.5}, "dataset.seed"),
        ({"classes": 2}, "dataset.classes"),
        ({"classes": 11}, "dataset.classes"),
    ],
)
def test_make_dataset_refuses_bad_arguments_naming_the_field(kwargs, field):
    kwargs = {"name": "blobs", **kwargs}
    with pytest.raises(EngineError) as err:
        make_dataset(**kwargs)
    assert err.value.field == field


def test_unknown_name_error_lists_the_builtins():
    with pytest.raises(EngineError, match=r"circle.*spiral.*blobs"):
        make_dataset("circles")


X2 = [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"x": [[1.0, 2.0], [3.0]], "y": [0, 1]}, "dataset.x"),
        ({"x": [[1.0, 2.0], 3.0], "y": [0, 1]}, "dataset.x"),
        ({"x": X2, "y": [[0], [1, 2], [1]]}, "dataset.y"),
        ({"x": [[1.0, None]], "y": [1]}, "dataset.x"),
        ({"x": [["a", "b"]], "y": [1]}, "dataset.x"),
        ({"x": [[[1.0]]], "y": [1]}, "dataset.x"),
        ({"x": 3.0, "y": [1]}, "dataset.x"),
        ({"x": [[1.0, math.nan]], "y": [1]}, "dataset.x"),
        ({"x": [[1.0, 2.0]], "y": [math.inf]}, "dataset.y"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, -math.inf]], "y_test": [1]}, "dataset.x_test"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, 1.0]], "y_test": [math.nan]}, "dataset.y_test"),
        ({"x": [], "y": []}, "dataset.x"),
        ({"x": [[]], "y": [1]}, "dataset.x"),
        ({"x": X2, "y": [0, 1]}, "dataset.y"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, 1.0], [1.0, 1.0]], "y_test": [1]}, "dataset.y_test"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, 1.0, 2.0]], "y_test": [1]}, "dataset.x_test"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, 1.0]], "y_test": [[1, 0]]}, "dataset.y_test"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, 1.0]]}, "dataset.y_test"),
        ({"x": X2, "y": [0, 1, 0], "y_test": [1]}, "dataset.x_test"),
        ({"x": X2, "y": [0, 1, 0], "max_samples": 2}, "dataset.x"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, 1.0]], "y_test": [1], "max_samples": 3}, "dataset.x_test"),
        ({"x": X2, "y": [0, 1, 0], "max_inputs": 1}, "dataset.x"),
        ({"x": X2, "y": [[0, 1], [1, 0], [1, 0]], "max_outputs": 1}, "dataset.y"),
        ({"x": X2, "y": [0, 1, 0], "task": "ranking"}, "dataset.task"),
        ({"x": X2, "y": [0, 2, 1], "task": "classification"}, "dataset.y"),
        ({"x": X2, "y": [[0, 1], [1, 0], [1, 0]], "task": "classification"}, "dataset.y"),
        ({"x": X2, "y": [0, 1, 0], "x_test": [[0.0, 1.0]], "y_test": [2], "task": "classification"}, "dataset.y_test"),
        ({"x": X2, "y": [0, 1.5, 2], "task": "multiclass"}, "dataset.y"),
        ({"x": X2, "y": [0, -1, 2], "task": "multiclass"}, "dataset.y"),
        ({"x": X2, "y": [0, 0, 0], "task": "multiclass"}, "dataset.y"),
        ({"x": X2, "y": [0, 1, 2], "task": "multiclass", "max_outputs": 2}, "dataset.y"),
        ({"x": X2, "y": [[0.5, 0.6], [1, 0], [0, 1]], "task": "multiclass"}, "dataset.y"),
        ({"x": X2, "y": [0, 1, 2], "x_test": [[0.0, 1.0]], "y_test": [3], "task": "multiclass"}, "dataset.y_test"),
    ],
)
def test_custom_dataset_refuses_bad_input_naming_the_field(kwargs, field):
    with pytest.raises(EngineError) as err:
        custom_dataset(**kwargs)
    assert err.value.field == field


def test_ragged_rows_give_a_readable_message_not_a_numpy_error():
    with pytest.raises(EngineError, match="rectangular"):
        custom_dataset([[1.0, 2.0], [3.0]], [0, 1])


def test_nan_message_names_the_row_and_column():
    with pytest.raises(EngineError, match="row 1, column 0"):
        custom_dataset([[1.0], [math.nan]], [0, 1])


@pytest.mark.parametrize(
    ("y", "task"),
    [
        ([0, 1, 1, 0], "classification"),
        ([[0], [0], [0], [0]], "classification"),
        ([True, False, True, False], "classification"),
        ([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], "multiclass"),
        ([[1, 0], [0, 1], [0, 1], [1, 0]], "multiclass"),
        ([0.2, 1.0, 0.0, 0.7], "regression"),
        ([0, 1, 2, 1], "regression"),
        ([[1, 1], [0, 1], [0, 0], [1, 0]], "regression"),
        ([[0.5, 0.5], [0, 1], [1, 0], [1, 0]], "regression"),
    ],
)
def test_custom_task_is_inferred_from_y(y, task):
    assert custom_dataset([[0.0], [1.0], [2.0], [3.0]], y).task == task


def test_inference_looks_at_the_test_targets_too():
    ds = custom_dataset([[0.0], [1.0]], [0, 1], x_test=[[2.0]], y_test=[0.5])
    assert ds.task == "regression"


def test_custom_data_keeps_order_and_has_empty_test_set_of_the_right_width():
    x = [[3.0, 1.0], [1.0, 2.0], [2.0, 0.5]]
    ds = custom_dataset(x, [1.5, -2.0, 0.25])
    assert ds.name == "custom" and ds.task == "regression"
    assert np.array_equal(ds.x_train, np.array(x)) and np.array_equal(ds.y_train[:, 0], [1.5, -2.0, 0.25])
    assert ds.x_test.shape == (0, 2) and ds.y_test.shape == (0, 1)
    assert ds.x_train.dtype == ds.y_train.dtype == np.float64
    assert (ds.inputs, ds.outputs) == (2, 1)


def test_custom_data_accepts_arrays_and_a_one_dimensional_x_as_a_column():
    ds = custom_dataset(np.arange(4), np.array([0, 1, 1, 0]), x_test=np.array([[9]]), y_test=np.array([1]))
    assert ds.x_train.shape == (4, 1) and ds.x_test.shape == (1, 1) and ds.y_test.shape == (1, 1)
    assert ds.task == "classification"


def test_empty_test_lists_mean_no_test_set():
    ds = custom_dataset(X2, [[1, 0], [0, 1], [1, 0]], x_test=[], y_test=[])
    assert ds.x_test.shape == (0, 2) and ds.y_test.shape == (0, 2) and ds.task == "multiclass"


def test_custom_data_is_copied_and_read_only():
    x = np.array(X2)
    ds = custom_dataset(x, [0, 1, 0])
    x[0, 0] = 99.0
    assert ds.x_train[0, 0] == 0.0
    with pytest.raises(ValueError):
        ds.y_train[0, 0] = 1.0


def test_class_indices_become_one_hot_rows_for_multiclass_in_train_and_test():
    ds = custom_dataset(X2, [2, 0, 1], x_test=[[1.0, 1.0], [2.0, 2.0]], y_test=[[1], [0]], task="multiclass")
    assert ds.task == "multiclass" and ds.outputs == 3
    assert np.array_equal(ds.y_train, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert np.array_equal(ds.y_test, [[0, 1, 0], [1, 0, 0]])


def test_multiclass_accepts_probability_rows_as_given():
    y = [[0.25, 0.75], [1.0, 0.0], [0.5, 0.5]]
    ds = custom_dataset(X2, y, task="multiclass")
    assert np.array_equal(ds.y_train, y)


def test_given_tasks_that_fit_are_kept():
    assert custom_dataset(X2, [0.0, 0.3, 1.0], task="classification").task == "classification"
    assert custom_dataset(X2, [0, 1, 0], task="regression").task == "regression"


def test_total_samples_limit_counts_train_and_test():
    ds = custom_dataset(X2, [0, 1, 0], x_test=[[0.0, 1.0]], y_test=[1], max_samples=4)
    assert len(ds.x_train) + len(ds.x_test) == 4


def test_feature_transform_on_two_inputs_matches_hand_computation():
    x = np.array([[1.0, 2.0], [-0.5, 3.0]])
    out = feature_transform(x, FEATURES)
    expected = [
        [1.0, 2.0, 1.0, 4.0, 2.0, math.sin(1.0), math.sin(2.0)],
        [-0.5, 3.0, 0.25, 9.0, -1.5, math.sin(-0.5), math.sin(3.0)],
    ]
    assert out.dtype == np.float64 and out.shape == (2, 7)
    assert np.allclose(out, expected)


def test_feature_transform_keeps_the_requested_order():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert np.array_equal(feature_transform(x, ["x1*x2", "x2", "x1"]), [[2.0, 2.0, 1.0], [12.0, 4.0, 3.0]])


def test_feature_transform_on_one_input():
    x = np.array([[2.0], [-1.0]])
    out = feature_transform(x, ["sin(x1)", "x1^2", "x1"])
    assert np.allclose(out, [[math.sin(2.0), 4.0, 2.0], [math.sin(-1.0), 1.0, -1.0]])


def test_feature_transform_of_zero_rows_has_the_right_width():
    assert feature_transform(np.zeros((0, 2)), ["x1", "x1^2", "sin(x2)"]).shape == (0, 3)


def test_feature_transform_beyond_two_inputs_uses_a_copy_of_the_raw_columns():
    x = np.arange(12.0).reshape(3, 4)
    out = feature_transform(x, [])
    assert np.array_equal(out, x) and out is not x
    assert np.array_equal(feature_transform(x, None), x)


def test_validate_features_defaults_to_the_raw_columns():
    assert validate_features(None, 1) == ("x1",)
    assert validate_features(None, 2) == ("x1", "x2")
    assert validate_features(None, 5) == ()
    assert validate_features(["x1^2", "x1*x2"], 2) == ("x1^2", "x1*x2")


@pytest.mark.parametrize(
    ("features", "inputs", "match"),
    [
        (["x1", "x3"], 2, "unknown feature 'x3'"),
        (["x1", "x1"], 2, "listed twice"),
        (["x1", "x2"], 1, "'x2' needs a second input"),
        (["x1*x2"], 1, "'x1\\*x2' needs a second input"),
        (["sin(x2)"], 1, "needs a second input"),
        ([], 2, "at least one"),
        ([], 1, "at least one"),
        (["x1", "x2"], 3, "leave features empty"),
        ("x1", 2, "list of feature names"),
        ([1], 2, "unknown feature"),
    ],
)
def test_validate_features_refuses_bad_lists_on_the_features_field(features, inputs, match):
    with pytest.raises(EngineError, match=match) as err:
        validate_features(features, inputs)
    assert err.value.field == "features"


def test_feature_transform_refuses_features_the_data_cannot_give():
    with pytest.raises(EngineError) as err:
        feature_transform(np.zeros((3, 1)), ["x2"])
    assert err.value.field == "features"


def test_engine_error_is_a_value_error():
    with pytest.raises(ValueError):
        make_dataset("nope")
