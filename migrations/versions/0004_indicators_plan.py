"""Indicators with yearly values, their links to cases, and the implementation plan's lines.

indicators and plan

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0004'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('data_source', sa.String(length=300), nullable=False),
    sa.Column('direction', sa.Enum('up', 'down', name='indicatordirection', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('national_goal_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['national_goal_id'], ['national_goals.id'], name=op.f('fk_indicators_national_goal_id_national_goals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('code', name=op.f('uq_indicators_code'))
    )
    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('imported_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_values_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_indicator_values_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
    sa.UniqueConstraint('indicator_id', 'year', 'party_id', name='indicator_year_party')
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('case_indicators',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_indicators_case_id_cases')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_case_indicators_indicator_id_indicators')),
    sa.PrimaryKeyConstraint('case_id', 'indicator_id', name=op.f('pk_case_indicators'))
    )
    op.create_table('plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_case_id', sa.Integer(), nullable=False),
    sa.Column('initiative_case_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('anchoring', sa.Text(), nullable=False),
    sa.Column('responsible_start', sa.Text(), nullable=False),
    sa.Column('responsible_delivery', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('economy', sa.Text(), nullable=False),
    sa.Column('economy_dkk', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on', name=op.f('ck_plan_items_timeline_order')),
    sa.ForeignKeyConstraint(['initiative_case_id'], ['cases.id'], name=op.f('fk_plan_items_initiative_case_id_cases')),
    sa.ForeignKeyConstraint(['plan_case_id'], ['cases.id'], name=op.f('fk_plan_items_plan_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_items'))
    )
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_items_plan_case_id'), ['plan_case_id'], unique=False)

    op.create_table('plan_item_indicators',
    sa.Column('plan_item_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_plan_item_indicators_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['plan_item_id'], ['plan_items.id'], name=op.f('fk_plan_item_indicators_plan_item_id_plan_items')),
    sa.PrimaryKeyConstraint('plan_item_id', 'indicator_id', name=op.f('pk_plan_item_indicators'))
    )


def downgrade() -> None:
    op.drop_table('plan_item_indicators')
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_items_plan_case_id'))
    op.drop_table('plan_items')
    op.drop_table('case_indicators')
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_values_indicator_id'))
    op.drop_table('indicator_values')
    op.drop_table('indicators')
