"""Composition and validation: every recipe composes, typos fail before work with the valid choices named."""

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from medq.config import config_dirs, recipe_names, register_recipes, validate_pipeline_config
from medq.errors import ConfigError


def composed(*overrides):
    register_recipes()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dirs()[0]), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def test_recipes_are_found():
    assert {"demo", "prepare_cmedqa2", "prepare_dialogue"} <= set(recipe_names())


# the required (???) keys of a recipe, given as a user would; a folder that exists is all validation checks of a model
REQUIRED = {"evaluate_model": ["evaluate.model={workdir}"]}


@pytest.mark.parametrize("recipe", recipe_names())
def test_every_recipe_composes_and_validates(recipe, workdir):
    cfg = composed(f"+recipe={recipe}", *(o.format(workdir=workdir) for o in REQUIRED.get(recipe, [])))
    container = validate_pipeline_config(cfg)
    assert container["stages"], f"recipe {recipe} runs no stage"
    for stage in container["stages"]:
        assert "_target_" in container[stage]


def test_recipe_overrides_a_group_option(workdir):
    cfg = composed("+recipe=prepare_cmedqa2")
    assert cfg.prepare.source._target_.endswith("CMedQA2Source")


def test_unknown_stage_key_names_the_key_and_valid_choices(workdir):
    cfg = composed("+recipe=demo", "+prepare.limt=5")
    with pytest.raises(ConfigError) as error:
        validate_pipeline_config(cfg)
    message = str(error.value)
    assert "'prepare.limt'" in message and "Did you mean 'prepare.limit'" in message and "save_hf_dataset" in message


def test_unknown_nested_dataclass_key_is_reported(workdir):
    cfg = composed("+recipe=demo", "+prepare.dedup.treshold=0.5")
    with pytest.raises(ConfigError, match=r"'prepare.dedup.treshold'.*Did you mean 'prepare.dedup.threshold'"):
        validate_pipeline_config(cfg)


def test_unknown_source_key_is_reported(workdir):
    cfg = composed("+recipe=demo", "+prepare.source.n_question=5")
    with pytest.raises(ConfigError, match=r"prepare.source.n_question.*n_questions"):
        validate_pipeline_config(cfg)


def test_wrong_type_is_reported_with_the_key(workdir):
    cfg = composed("+recipe=demo", "prepare.limit=ten")
    with pytest.raises(ConfigError, match=r"'prepare.limit' = 'ten' is invalid"):
        validate_pipeline_config(cfg)


def test_literal_choices_are_enforced(workdir):
    cfg = composed("+recipe=demo", "prepare.on_bad_record=ignore")
    with pytest.raises(ConfigError, match=r"prepare.on_bad_record.*'error' or 'skip'"):
        validate_pipeline_config(cfg)


def test_unknown_root_key_and_unknown_stage_name(workdir):
    with pytest.raises(ConfigError, match=r"unknown config key 'sed'.*Did you mean 'seed'"):
        validate_pipeline_config(composed("+recipe=demo", "+sed=1"))
    with pytest.raises(ConfigError, match=r"stage 'prepar' in 'stages' has no config.*Did you mean 'prepare'"):
        validate_pipeline_config(composed("+recipe=demo", "stages=[prepar]"))


def test_required_value_left_missing_is_reported(workdir):
    cfg = composed("+recipe=demo", "prepare/source=csv")
    with pytest.raises(ConfigError, match=r"prepare.source.path"):
        validate_pipeline_config(cfg)
