"""The build's comparison of the page's detections with the exporter's runtime (verify.compare):
same classes in the same order, boxes and scores within tolerance, degenerate boxes as regions."""

from __future__ import annotations

from sitegen.site.verify import compare


def _detection(x, y, width, height, score=0.9, class_id=1):
    return {
        "classId": class_id,
        "score": score,
        "box": {"x": x, "y": y, "width": width, "height": height},
    }


def test_equal_detections_agree():
    found = [_detection(0.1, 0.2, 0.3, 0.4), _detection(0.5, 0.5, 0.1, 0.1, score=0.8)]
    assert compare(found, found) is None


def test_a_box_off_by_more_than_the_tolerance_disagrees():
    page = [_detection(0.1, 0.2, 0.3, 0.4)]
    reference = [_detection(0.1, 0.2, 0.3 + 2e-3, 0.4)]
    assert compare(page, reference) is not None


def test_a_degenerate_box_agrees_with_its_corners_swapped():
    """Ultralytics keeps a negative predicted width as x1 > x2 (width -0.0052); a page that reports
    the same region with its corners in order (width +0.0052) is right, not wrong."""
    reference = [_detection(0.4052, 0.3, -0.0052, 0.1)]
    page = [_detection(0.4, 0.3, 0.0052, 0.1)]
    assert compare(page, reference) is None
    elsewhere = [_detection(0.41, 0.3, 0.0052, 0.1)]
    assert compare(elsewhere, reference) is not None


def test_another_class_or_count_disagrees():
    reference = [_detection(0.1, 0.2, 0.3, 0.4)]
    assert compare([_detection(0.1, 0.2, 0.3, 0.4, class_id=2)], reference) is not None
    assert compare([], reference) == "0 detections where TensorFlow has 1"
