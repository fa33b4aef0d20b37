from publish.standards import colour_for, colour_table, is_valid_code, land_use_classes
from publish.standards.fields import standard_field_titles


def test_classification_has_the_national_tree() -> None:
    classes = land_use_classes()
    assert sum(c.level == 1 for c in classes.values()) == 24
    assert sum(c.level == 2 for c in classes.values()) == 111
    assert sum(c.level == 3 for c in classes.values()) == 40
    assert classes["1001"].name == "工业用地"
    assert is_valid_code("070102") and not is_valid_code("0799") and not is_valid_code(701)


def test_colours_follow_the_table_and_the_nearest_ancestor() -> None:
    assert len(colour_table()) == 39
    assert colour_for("0101") == "#F5F8DC"  # 耕地 via 01
    assert colour_for("070102") == "#FFFF2D"  # 二类城镇住宅 via 0701
    assert colour_for("0702") == colour_for("0701")
    assert colour_for("0704") == colour_for("0703")
    assert colour_for("1001") == "#BB9674"
    assert colour_for("1701") == "#338EC0"


def test_a_class_s_colour_is_colour_for_its_code() -> None:
    """land_use_classes() and colour_for() once disagreed on 0702 and 0704 (blank in the CSV)."""
    classes = land_use_classes()
    assert classes["0702"].colour == classes["0701"].colour == "#FFFF2D"
    assert classes["0704"].colour == classes["0703"].colour == "#FFD380"
    for code, cls in classes.items():
        assert cls.colour == colour_for(code), code
    # and where the classification's CSV gives a colour, it is that one
    import csv
    from importlib import resources

    text = resources.files("publish.standards").joinpath("ydyh_classes_with_colours.csv")
    given = {r["code"]: r["hex"].upper() for r in csv.DictReader(text.open(encoding="utf-8"))}
    assert sum(1 for h in given.values() if h) > 100
    for code, colour in given.items():
        assert not colour or classes[code].colour == colour, code


def test_standard_field_titles() -> None:
    titles = standard_field_titles()
    assert titles["MJ"] == ("面积", "Area")
    assert titles["YDYHFLDM"] == ("用地用海分类代码", "Land-use class code")
    assert all(zh and en for zh, en in titles.values())
