# SPDX-License-Identifier: MIT
"""B7's Python peer: the hero API of SQLModel's FastAPI chapters (heroes
with their team), as the tutorial writes it, on Debian's FastAPI, SQLModel
(0.0.8, pydantic 1) and uvicorn. Only the two routes B7 measures, written
the tutorial's way: sync routes (FastAPI runs them on its thread pool), a
session per request through Depends, the engine's defaults.

    DATABASE_URL=sqlite:////tmp/b7.db /usr/bin/python3 -m uvicorn \
        hero_fastapi:app --app-dir bench/py --port 8001 --no-access-log

PostgreSQL goes through psycopg2 (Debian's python3-psycopg2), SQLAlchemy's
default driver for a postgresql:// URL. The tables are the calx service's
(bench/b7.sh starts it first on the same database): create_all finds them.
"""
import os
from typing import List, Optional

from fastapi import Depends, FastAPI, HTTPException
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine


class TeamBase(SQLModel):
    name: str = Field(index=True)
    headquarters: str


class Team(TeamBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    heroes: List["Hero"] = Relationship(back_populates="team")


class TeamPublic(TeamBase):
    id: int


class HeroBase(SQLModel):
    name: str = Field(index=True)
    secret_name: str
    age: Optional[int] = Field(default=None, index=True)
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")


class Hero(HeroBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    team: Optional[Team] = Relationship(back_populates="heroes")


class HeroCreate(HeroBase):
    pass


class HeroPublic(HeroBase):
    id: int


class HeroPublicWithTeam(HeroPublic):
    team: Optional[TeamPublic] = None


URL = os.environ["DATABASE_URL"]
ARGS = {"check_same_thread": False} if URL.startswith("sqlite") else {}
engine = create_engine(URL, connect_args=ARGS)


def get_session():
    with Session(engine) as session:
        yield session


app = FastAPI()


@app.on_event("startup")
def on_startup():
    SQLModel.metadata.create_all(engine)


@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: Session = Depends(get_session), hero: HeroCreate):
    db_hero = Hero.from_orm(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


@app.get("/heroes/{hero_id}", response_model=HeroPublicWithTeam)
def read_hero(*, session: Session = Depends(get_session), hero_id: int):
    hero = session.get(Hero, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero
