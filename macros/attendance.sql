{#- Chronic absence (CA Dashboard): absent on at least p20:chronic_absence_threshold of the days
    a student was expected to attend, counted only for students expected at least
    p20:chronic_absence_min_days_expected days. One rule for the student-year and the
    student-school-year marts. -#}
{% macro is_chronically_absent(days_expected, days_attended) %}
    ({{ days_expected }} >= {{ var('p20:chronic_absence_min_days_expected') }}
    and ({{ days_expected }} - {{ days_attended }})
        >= {{ var('p20:chronic_absence_threshold') }} * {{ days_expected }})
{% endmacro %}
