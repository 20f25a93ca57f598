-- Classroom peers in the spirit of the within-race reference-group studies: for each student in
-- a mathematics section, the mean prior-year math achievement (z-score within grade and year)
-- of the section's other students of the same reference group (leave-one-out) and of the
-- students of other groups. Reference groups come from seed peer_reference_groups.
with course_marks as (
    select * from {{ ref('fct_course_marks') }}
    where math_sequence_rank is not null
),

student_years as (
    select * from {{ ref('fct_student_years') }}
),

reference_groups as (
    select * from {{ ref('peer_reference_groups') }}
),

math_scores as (
    select
        student_token,
        school_year,
        scale_score,
        (scale_score - avg(scale_score) over (partition by school_year, grade_assessed_order))
        / nullif(stddev_pop(scale_score) over (partition by school_year, grade_assessed_order), 0)
            as score_z
    from {{ ref('fct_assessments') }}
    where subject = 'MATH' and scale_score is not null
),

members as (
    select
        course_marks.student_token,
        course_marks.school_year,
        course_marks.school_code,
        course_marks.section_token,
        course_marks.academic_term,
        course_marks.grade_level,
        student_years.race_ethnicity,
        reference_groups.peer_reference_group,
        prior_scores.score_z as prior_math_z,
        current_scores.score_z as math_z
    from course_marks
    left join student_years
        on course_marks.student_token = student_years.student_token
        and course_marks.school_year = student_years.school_year
    left join reference_groups
        on student_years.race_ethnicity = reference_groups.race_ethnicity
    left join math_scores as prior_scores
        on course_marks.student_token = prior_scores.student_token
        and prior_scores.school_year = course_marks.school_year - 1
    left join math_scores as current_scores
        on course_marks.student_token = current_scores.student_token
        and course_marks.school_year = current_scores.school_year
),

section_groups as (
    select
        school_year,
        school_code,
        section_token,
        academic_term,
        peer_reference_group,
        count(*) as n_members,
        count(prior_math_z) as n_with_prior,
        sum(prior_math_z) as sum_prior_math_z
    from members
    group by school_year, school_code, section_token, academic_term, peer_reference_group
),

sections as (
    select
        school_year,
        school_code,
        section_token,
        academic_term,
        sum(n_members) as n_members,
        sum(n_with_prior) as n_with_prior,
        sum(sum_prior_math_z) as sum_prior_math_z
    from section_groups
    group by school_year, school_code, section_token, academic_term
),

final as (
    select
        members.student_token,
        members.school_year,
        members.school_code,
        members.section_token,
        members.academic_term,
        members.grade_level,
        members.race_ethnicity,
        members.peer_reference_group,
        members.prior_math_z,
        members.math_z,
        cast(sections.n_members as integer) as n_classmates_plus_self,
        cast(same_group.n_members - 1 as integer) as n_same_group_peers,
        cast(sections.n_members - same_group.n_members as integer) as n_other_group_peers,
        -- leave-one-out: the student's own prior score is taken out of the group mean
        (same_group.sum_prior_math_z - coalesce(members.prior_math_z, 0))
        / nullif(same_group.n_with_prior - case when members.prior_math_z is null then 0 else 1 end, 0)
            as same_group_peer_prior_math_z,
        (sections.sum_prior_math_z - same_group.sum_prior_math_z)
        / nullif(sections.n_with_prior - same_group.n_with_prior, 0)
            as other_group_peer_prior_math_z
    from members
    inner join sections
        on members.school_year = sections.school_year
        and members.school_code = sections.school_code
        and members.section_token = sections.section_token
        and members.academic_term = sections.academic_term
    inner join section_groups as same_group
        on members.school_year = same_group.school_year
        and members.school_code = same_group.school_code
        and members.section_token = same_group.section_token
        and members.academic_term = same_group.academic_term
        and members.peer_reference_group is not distinct from same_group.peer_reference_group
)

select * from final
