"""Command rendering for v1 args, sdk-2.0 ``[...]`` and v2 ``$[[...]]`` placeholders."""

from __future__ import annotations

import pytest

from amlrun.errors import SpecError
from amlrun.spec.load import load_module
from amlrun.spec.params import resolve_params
from amlrun.spec.render import render
from tests.conftest import CORPUS

_MODULES = "v1_module_spec/recommenders_2020/reco_utils/azureml/azureml_designer_modules/"
SAR_V1 = CORPUS / _MODULES / "module_specs/sar_score.yaml"
_V2 = "v2_azureml_examples/cli/jobs/pipelines-with-components/"
DENSENET = CORPUS / _V2 / "image_classification_with_densenet/image_cnn_train/entry.spec.yaml"
_SDK20 = "sdk20_component_spec/gallery_tutorial/tutorial/component-spec-topics/samples/"
SDK20_OPT = CORPUS / _SDK20 / "inputs-and-outputs/component_spec.yaml"


def _render(spec, params=None, paths=None):
    m = load_module(spec)
    values = resolve_params(m, params or {})
    values.update(paths or {})
    return render(m, values)


@pytest.fixture(autouse=True)
def _need_corpus():
    assert CORPUS.is_dir(), f"the shared corpus is missing at {CORPUS}"


SAR_PATHS = {"Trained model": "/m", "Dataset to score": "/d", "Score result": "/o"}


def test_three_level_nested_enum_defaults_select_the_active_groups():
    argv = _render(SAR_V1, {}, SAR_PATHS).argv
    assert "--items-to-predict" not in argv  # under Rating prediction, not selected
    assert argv[argv.index("--ranking-metric") + 1] == "Rating"
    assert argv[argv.index("--remove-seen-items") + 1] == "False"  # level three, under Rating
    assert argv[argv.index("--score-type") + 1] == "Item recommendation"  # one argv item


def test_switching_the_parent_enum_swaps_the_sub_parameter_groups():
    argv = _render(SAR_V1, {"Score type": "Rating prediction"}, SAR_PATHS).argv
    assert argv[argv.index("--items-to-predict") + 1] == "Items in score set"
    assert "--top-k" not in argv and "--ranking-metric" not in argv


def test_sub_parameter_of_an_unselected_option_is_rejected():
    with pytest.raises(SpecError, match="only applies when 'Score type' is 'Rating prediction'"):
        _render(SAR_V1, {"Items to predict": "Items in training set"}, SAR_PATHS)


def test_v2_key_equals_optional_groups_keep_defaults_and_quote_empty_values():
    text = _render(DENSENET, {}, {"train_data": "/t", "valid_data": "/v", "workspace": "/w"}).text
    assert "resume='' pretrained_weights=''" in text  # optional with default "" keeps its group


def test_v2_optional_group_dropped_when_the_input_has_no_value(tmp_path):
    spec = tmp_path / "c.yml"
    spec.write_text(
        "type: command\nname: x\ninputs:\n  n: {type: integer, optional: true}\n"
        "  lr: {type: number, optional: true, default: 0.1}\n"
        "command: python t.py $[[--n ${{inputs.n}}]] $[[--lr ${{inputs.lr}}]] --done\n"
    )
    assert _render(spec).text == "python t.py  --lr 0.1 --done"
    assert _render(spec, {"n": "3"}).text == "python t.py --n 3 --lr 0.1 --done"


def test_sdk20_bracket_groups():
    paths = {"input_path": "/i", "output_path": "/o", "optional_input_path": None}
    text = _render(SDK20_OPT, {}, paths).text
    assert "--optional-input-path" not in text and "--optional-int-parameter" not in text
    assert "--string-param 'string value'" in text
    text = _render(
        SDK20_OPT, {"optional_int_parameter": 2}, {**paths, "optional_input_path": "/x"}
    ).text
    assert "--optional-input-path /x" in text and "--optional-int-parameter 2" in text


def test_paths_with_spaces_and_values_needing_quotes(tmp_path):
    spec = tmp_path / "c.yml"
    spec.write_text(
        "type: command\nname: x\ninputs:\n  my_data: {type: uri_folder}\n  s: {type: string}\n"
        "command: cat \"${{inputs.my_data}}/a.txt\" '${{inputs.s}}' ${{inputs.s}}\n"
    )
    text = _render(spec, {"s": "it's $HOME"}, {"my_data": "/p q"}).text
    assert text == "cat \"/p q/a.txt\" 'it'\\''s $HOME' 'it'\"'\"'s $HOME'"


def test_required_input_without_value_is_an_error_before_running(tmp_path):
    spec = tmp_path / "c.yml"
    spec.write_text(
        "type: command\nname: x\ninputs:\n  n: {type: integer}\ncommand: echo ${{inputs.n}}\n"
    )
    with pytest.raises(SpecError, match="required input 'n' has no value"):
        _render(spec)


@pytest.mark.parametrize(
    "value,message",
    [
        ("abc", "parameter 'n' got 'abc'; allowed: an integer (1 <= value <= 5)"),
        ("9", "allowed: a value <= 5"),
        ("1.5", "allowed: an integer"),
    ],
)
def test_parameter_values_are_coerced_and_checked(tmp_path, value, message):
    spec = tmp_path / "c.yml"
    spec.write_text(
        "type: command\nname: x\ninputs:\n  n: {type: integer, min: 1, max: 5}\n"
        "  e: {type: string, enum: [a, b], default: a}\ncommand: echo ${{inputs.n}}\n"
    )
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _render(spec, {"n": value})


def test_enum_value_must_be_an_option(tmp_path):
    spec = tmp_path / "c.yml"
    spec.write_text(
        "type: command\nname: x\ninputs:\n  e: {type: string, enum: [a, b]}\n"
        "command: echo ${{inputs.e}}\n"
    )
    with pytest.raises(SpecError, match="allowed: one of 'a', 'b'"):
        _render(spec, {"e": "c"})
    assert _render(spec, {"e": "b"}).text == "echo b"
